"""The portals' sign-in state: users' password hashes live on `users`; a signed-in browser is a
`web_sessions` row (docs/web.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from edgewise.central.store.tables import Base, new_id, utcnow


class WebSessionRow(Base):
    """A browser signed in as a user. The cookie's secret is stored only as its SHA-256 hash;
    `csrf_token` is the synchronizer token every form and every cookie-authenticated write must
    carry. A session ends at `expires_at` (absolute), after the idle timeout since
    `last_seen_at`, at logout, or when its user is deleted."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    address: Mapped[str] = mapped_column(String(64), default="")
