"""Reminder notices (phiếu nhắc việc / văn bản đôn đốc) to slow units."""
