"""Start the station: 127.0.0.1 with a per-start secret token, or the LAN (`--host`) behind a password over TLS."""

from __future__ import annotations

import ipaddress
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.station.security import hash_password, load_config


@dataclass(frozen=True, slots=True)
class ServeOptions:
    outbox: Path
    inbox: Path
    form: Path
    host: str = "127.0.0.1"
    port: int = 8765
    config: Path | None = None


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(options: ServeOptions) -> int:
    """Run until Ctrl-C. Exit 1 (with the reason on stderr) when a LAN address lacks its password or TLS."""
    import uvicorn

    from pipeline.station.app import StationSettings, create_app

    ssl: dict[str, str] = {}
    if is_loopback(options.host):
        token: str | None = secrets.token_urlsafe(24)
        password_hash = None
    else:
        if options.config is None:
            print(f"--host {options.host}: LAN で使うには --config FILE（パスワードのハッシュと TLS 証明書）が必要です", file=sys.stderr)
            return 1
        try:
            config = load_config(options.config)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        if config.tls_cert is None or config.tls_key is None:
            print(f"{options.config}: LAN では tls_cert と tls_key が必要です（セッションの cookie を Secure で送るため）", file=sys.stderr)
            return 1
        token, password_hash = None, config.password_hash
        ssl = {"ssl_certfile": str(config.tls_cert), "ssl_keyfile": str(config.tls_key)}
    settings = StationSettings(outbox=options.outbox, inbox=options.inbox, form=options.form, token=token, password_hash=password_hash, secure_cookies=bool(ssl))
    app = create_app(settings)
    scheme = "https" if ssl else "http"
    address = f"{scheme}://{options.host}:{options.port}/" + (f"?token={token}" if token else "")
    print(f"審査ステーション: ブラウザで開いてください  {address}", flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", access_log=False, **ssl)  # type: ignore[arg-type]
    return 0


def write_password(config: Path, password: str) -> None:
    """Store the password's scrypt hash in the config file (created, or its password_hash line replaced)."""
    lines = config.read_text(encoding="utf-8").splitlines() if config.exists() else []
    lines = [ln for ln in lines if not ln.startswith("password_hash:")]
    lines.insert(0, f"password_hash: '{hash_password(password)}'")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config.chmod(0o600)
