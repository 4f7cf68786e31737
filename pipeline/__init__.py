"""Review pipeline for 「インターネット接続サービス安全・安心マーク」 applications."""

__version__ = "0.1.0"
