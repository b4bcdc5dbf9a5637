"""Programme registry and task-code aliases (office sheets, issue 22)

Revision ID: 0012_programmes_aliases
Revises: 0011_history_locked
Create Date: 2026-12-06

Why a registry: the importer used to guess the programme from digits ("any text with 02
is Plan 02"), so "Chương trình chuyển đổi số năm 2025" became KH02 and Cà Mau's own action
programme 97-CTr/TU became a programme of its own outside the NQ57 totals. ``programme``
names each programme once (code, name, aliases); a provincial action programme has NQ57 as
``parent_code`` and its tasks count in NQ57's totals; a phase of Plan 02 is an entry with
``phase`` set, whose tasks are stored under the parent's code with that phase.

Why ``task_alias``: offices number tasks their own way (``HN-KH02-00004-01``); once a row
is matched to a stored task by its natural key, the office's code is kept here so the next
sheet matches by code. Deleting a task deletes its aliases (the demo reset does).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0012_programmes_aliases"
down_revision = "0011_history_locked"
branch_labels = None
depends_on = None

SEED = [
    # code, name, aliases, parent, phase, province
    (
        "NQ57",
        "Nghị quyết số 57-NQ/TW của Bộ Chính trị về đột phá phát triển khoa học, công nghệ,"
        " đổi mới sáng tạo và chuyển đổi số quốc gia",
        ["57-NQ/TW", "NQ57", "NQ 57", "NQ-57", "Nghị quyết 57", "Nghị quyết số 57",
         "Nghị quyết 57-NQ/TW", "Resolution 57"],
        None, None, None,
    ),
    (
        "KH02",
        "Kế hoạch số 02-KH/BCĐTW của Ban Chỉ đạo Trung ương về chuyển đổi số phục vụ"
        " chính quyền địa phương hai cấp",
        ["02-KH/BCĐTW", "KH02", "KH 02", "KH-02", "KH2", "Kế hoạch 02", "Kế hoạch số 02",
         "Kế hoạch 02-KH/BCĐTW", "Plan 02"],
        None, None, None,
    ),
    (
        "KH02-1",
        "Kế hoạch số 02-KH/BCĐTW, giai đoạn 1",
        ["KH02 giai đoạn 1", "KH02 GĐ1", "KH02-GĐ1", "KH02 GĐ 1", "Kế hoạch 02 giai đoạn 1",
         "02-KH/BCĐTW giai đoạn 1", "Plan 02 phase 1"],
        "KH02", 1, None,
    ),
    (
        "KH02-2",
        "Kế hoạch số 02-KH/BCĐTW, giai đoạn 2",
        ["KH02 giai đoạn 2", "KH02 GĐ2", "KH02-GĐ2", "KH02 GĐ 2", "Kế hoạch 02 giai đoạn 2",
         "02-KH/BCĐTW giai đoạn 2", "Plan 02 phase 2"],
        "KH02", 2, None,
    ),
    (
        "CTR97-CM",
        "Chương trình hành động số 97-CTr/TU của Tỉnh ủy Cà Mau thực hiện Nghị quyết"
        " số 57-NQ/TW",
        ["97-CTr/TU", "CTr 97", "CTr97", "Chương trình 97", "Chương trình hành động 97",
         "Chương trình hành động số 97-CTr/TU"],
        "NQ57", None, "96",
    ),
]  # fmt: skip


def upgrade() -> None:
    programme = op.create_table(
        "programme",
        sa.Column("code", sa.Text(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("aliases", ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("parent_code", sa.Text(), sa.ForeignKey("programme.code"), nullable=True),
        sa.Column("phase", sa.SmallInteger(), nullable=True),
        sa.Column("province_code", sa.String(2), nullable=True),
        sa.CheckConstraint("code ~ '^[A-Z0-9][A-Z0-9-]{0,23}$'", name="programme_code_form"),
        sa.CheckConstraint(
            "phase is null or parent_code is not null", name="programme_phase_has_parent"
        ),
    )
    op.bulk_insert(
        programme,
        [
            {"code": c, "name": n, "aliases": a, "parent_code": p, "phase": ph, "province_code": pr}
            for c, n, a, p, ph, pr in SEED
        ],  # fmt: skip
    )
    op.create_table(
        "task_alias",
        sa.Column("alias", sa.Text(), primary_key=True),
        sa.Column(
            "task_id",
            sa.Integer(),
            sa.ForeignKey("task.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.create_index("task_alias_task_idx", "task_alias", ["task_id"])


def downgrade() -> None:
    op.drop_index("task_alias_task_idx", table_name="task_alias")
    op.drop_table("task_alias")
    op.drop_table("programme")
