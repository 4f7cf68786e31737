"""Who may use the station and what a request may reach: the start token, the password, sessions, CSRF, safe paths."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SESSION_COOKIE = "station_session"
SESSION_SECONDS = 12 * 3600
# scrypt cost: ~50 ms per check on this machine, enough to make guessing a stolen hash slow.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (hex): what the config file stores; the password itself is never kept."""
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


@dataclass(frozen=True, slots=True)
class StationConfig:
    """The config file of a station served to the LAN (`--host`): the password's hash and the TLS pair."""

    password_hash: str
    tls_cert: Path | None = None
    tls_key: Path | None = None


def load_config(path: Path) -> StationConfig:
    """Read `password_hash:`, `tls_cert:`, `tls_key:` (YAML); ValueError naming the file and what is wrong."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: 設定ファイルを読めません（{exc}）") from exc
    if not isinstance(data, dict) or not str(data.get("password_hash") or "").startswith("scrypt$"):
        raise ValueError(f"{path}: password_hash がありません（python -m pipeline review --set-password {path} で作れます）")
    base = path.parent
    cert, key = data.get("tls_cert"), data.get("tls_key")
    return StationConfig(
        password_hash=str(data["password_hash"]),
        tls_cert=(base / str(cert)) if cert else None,
        tls_key=(base / str(key)) if key else None,
    )


@dataclass(slots=True)
class Session:
    csrf: str
    expires: float


class Guard:
    """The station's sessions: made by the start token (local) or the password (LAN); each carries its CSRF token."""

    def __init__(self, token: str | None, password_hash: str | None, secure_cookies: bool) -> None:
        self.token = token
        self.password_hash = password_hash
        self.secure_cookies = secure_cookies
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def token_ok(self, given: str | None) -> bool:
        return bool(self.token and given and hmac.compare_digest(given.encode(), self.token.encode()))

    def password_ok(self, given: str) -> bool:
        return bool(self.password_hash and verify_password(given, self.password_hash))

    def new_session(self) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires > now}
            self._sessions[sid] = Session(csrf=secrets.token_urlsafe(32), expires=now + SESSION_SECONDS)
        return sid

    def session(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            found = self._sessions.get(sid)
        if found is None or found.expires < time.time():
            return None
        return found

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), session.csrf.encode())

    def cookie(self, sid: str) -> str:
        flags = "; HttpOnly; SameSite=Strict; Path=/" + ("; Secure" if self.secure_cookies else "")
        return f"{SESSION_COOKIE}={sid}{flags}"


def submission_dir(outbox: Path, name: str) -> Path | None:
    """outbox/<name> when `name` is one real folder of the outbox holding result.json; None otherwise.

    No separator, no `..`, no hidden name, no link: a name is only ever one folder the run made.
    """
    if not name or name in (".", "..") or name.startswith(".") or "/" in name or "\\" in name or "\x00" in name:
        return None
    path = outbox / name
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or not (path / "result.json").is_file():
        return None
    return path


ALLOWED_FILES = ("dossier.pdf", "certificate.pdf")
ALLOWED_FOLDERS = ("crops", "pages")
ALLOWED_SUFFIXES = (".png",)


def outbox_file(outbox: Path, name: str, rel: str) -> Path | None:
    """A file a page may show: the dossier, the certificate, a crop or a page image of one submission.

    Refused (None): anything else, `..`, absolute paths, and any link on the way (a symlink
    planted in crops/ pointing at /etc/passwd is never followed).
    """
    base = submission_dir(outbox, name)
    if base is None or not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    if not (
        (len(parts) == 1 and parts[0] in ALLOWED_FILES)
        or (len(parts) == 2 and parts[0] in ALLOWED_FOLDERS and parts[1].endswith(ALLOWED_SUFFIXES))
    ):
        return None
    path = base
    for part in parts:
        path = path / part
        try:
            info = os.lstat(path)
        except OSError:
            return None
        if stat.S_ISLNK(info.st_mode):
            return None
    if not stat.S_ISREG(os.lstat(path).st_mode):
        return None
    root = os.path.realpath(outbox)
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        return None
    return path
