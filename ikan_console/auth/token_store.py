"""Where the console keeps its few long-lived secrets: the OS keychain, or an opt-in 0600 file.

Only small secrets live here (the platform refresh token and the identity provider's refresh
token), one entry per profile and key under the service name ``ikan-console``. Values longer than
`CHUNK_CHARS` are split into numbered entries behind a manifest, because Windows Credential
Manager refuses blobs over 2,560 bytes of UTF-16 (1,280 characters). Every write is read back,
since the null backend accepts writes and returns nothing. A missing or corrupt entry reads as
`None` ("sign in again"); a keychain that cannot be used raises `TokenStoreUnavailable`, whose
message the UI shows as is. Nothing falls back to plain text silently: `FileTokenStore` is used
only when the user opted in, and it says so through ``insecure = True``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import keyring
import keyring.backend
import keyring.errors
import platformdirs
from keyring.backends import chainer, fail, null

SERVICE = "ikan-console"
PLATFORM_REFRESH_TOKEN = "platform-refresh-token"
IDP_REFRESH_TOKEN = "idp-refresh-token"
KNOWN_KEYS = (PLATFORM_REFRESH_TOKEN, IDP_REFRESH_TOKEN)
# 1,000 UTF-16 code units plus the prefix stays under Windows' 2,560-byte credential blob.
CHUNK_CHARS = 1_000
MAX_CHUNKS = 64
SINGLE_PREFIX = "v1:"
MANIFEST_PREFIX = "v1-chunks:"
FILE_NAME = "tokens.json"

_log = logging.getLogger(__name__)


class TokenStoreUnavailable(Exception):
    """No safe place to keep tokens; `str(error)` is a plain sentence for the user."""


@dataclass(frozen=True)
class KeyringStatus:
    """What the active keyring backend is and whether the console may use it."""

    usable: bool
    insecure: bool
    backend: str
    message: str


class TokenStore(Protocol):
    """A small-secret store keyed by profile and key name."""

    insecure: bool
    label: str

    def get(self, profile: str, key: str) -> str | None:
        """The stored value, or None when missing or unreadable."""
        ...

    def set(self, profile: str, key: str, value: str) -> None:
        """Store and verify, or raise `TokenStoreUnavailable`."""
        ...

    def delete(self, profile: str, key: str) -> None:
        """Forget the value; missing is fine."""
        ...


def probe_keyring(backend: keyring.backend.KeyringBackend | None = None) -> KeyringStatus:
    """Classify the active (or given) backend: usable, plaintext, disabled or absent."""
    active = backend or keyring.get_keyring()
    if isinstance(active, chainer.ChainerBackend) and active.backends:
        # The chainer writes to its highest-priority member, so that one decides.
        active = active.backends[0]
    name = f"{type(active).__module__}.{type(active).__name__}"
    if isinstance(active, fail.Keyring):
        return KeyringStatus(
            usable=False,
            insecure=False,
            backend=name,
            message="No OS keychain is available (on Linux: no Secret Service on the session bus), "
            "so the console cannot store your sign-in safely. Start a keyring daemon, or opt in "
            "to a less safe 0600 file with IKAN_INSECURE_TOKEN_FILE=1.",
        )
    if isinstance(active, null.Keyring):
        return KeyringStatus(
            usable=False,
            insecure=False,
            backend=name,
            message="The keyring is disabled (null backend, see PYTHON_KEYRING_BACKEND). "
            "Enable a real keychain, or opt in to a less safe 0600 file with "
            "IKAN_INSECURE_TOKEN_FILE=1.",
        )
    if type(active).__name__ == "PlaintextKeyring" or active.priority < 1:
        return KeyringStatus(
            usable=False,
            insecure=True,
            backend=name,
            message=f"The only keyring available ({name}) keeps secrets as readable text. "
            "Install a real keychain, or opt in explicitly with IKAN_INSECURE_TOKEN_FILE=1.",
        )
    return KeyringStatus(
        usable=True,
        insecure=False,
        backend=name,
        message=f"Tokens are kept in the keychain ({name}).",
    )


class KeyringTokenStore:
    """Tokens in the OS keychain, chunked when long, read back after every write."""

    insecure = False

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend or keyring.get_keyring()
        self.label = f"keychain ({type(self._backend).__name__})"

    def get(self, profile: str, key: str) -> str | None:
        """The value, None when missing or corrupt; raise only if the keychain fails."""
        head = self._read(_entry(profile, key))
        if head is None:
            return None
        if head.startswith(SINGLE_PREFIX):
            return head.removeprefix(SINGLE_PREFIX)
        if head.startswith(MANIFEST_PREFIX):
            return self._join_chunks(profile, key, head)
        _log.warning("Discarding an unrecognised token entry for profile %s (%s)", profile, key)
        return None

    def set(self, profile: str, key: str, value: str) -> None:
        """Write (chunked if long), drop stale chunks, then read back and compare."""
        old_count = self._chunk_count(profile, key)
        if len(value) <= CHUNK_CHARS:
            self._write(_entry(profile, key), SINGLE_PREFIX + value)
            new_count = 0
        else:
            chunks = [value[i : i + CHUNK_CHARS] for i in range(0, len(value), CHUNK_CHARS)]
            if len(chunks) > MAX_CHUNKS:
                raise TokenStoreUnavailable("A token is too large to keep in the keychain.")
            for index, chunk in enumerate(chunks):
                self._write(_chunk_entry(profile, key, index), chunk)
            # The manifest goes last, so a crash mid-write leaves a digest mismatch, not a mix.
            self._write(_entry(profile, key), f"{MANIFEST_PREFIX}{len(chunks)}:{_digest(value)}")
            new_count = len(chunks)
        for index in range(new_count, old_count):
            self._remove(_chunk_entry(profile, key, index))
        if self.get(profile, key) != value:
            raise TokenStoreUnavailable(
                f"The keychain ({type(self._backend).__name__}) accepted the token but gave "
                "nothing back when read; it may be disabled. Enable a real keychain, or opt in "
                "to a less safe 0600 file with IKAN_INSECURE_TOKEN_FILE=1."
            )

    def delete(self, profile: str, key: str) -> None:
        """Remove the entry and any chunks."""
        count = self._chunk_count(profile, key)
        self._remove(_entry(profile, key))
        for index in range(count):
            self._remove(_chunk_entry(profile, key, index))

    def _join_chunks(self, profile: str, key: str, head: str) -> str | None:
        count, digest = _parse_manifest(head)
        parts = [self._read(_chunk_entry(profile, key, i)) for i in range(count)]
        value = "".join(p for p in parts if p is not None)
        if count == 0 or None in parts or _digest(value) != digest:
            _log.warning("Discarding an incomplete chunked token for profile %s (%s)", profile, key)
            return None
        return value

    def _chunk_count(self, profile: str, key: str) -> int:
        head = self._read(_entry(profile, key))
        return _parse_manifest(head)[0] if head and head.startswith(MANIFEST_PREFIX) else 0

    # Backends raise their own types (dbus, pywintypes, OSError ...), hence the broad excepts.
    def _read(self, entry: str) -> str | None:
        try:
            return self._backend.get_password(SERVICE, entry)
        except Exception as exc:
            raise TokenStoreUnavailable(_failure("read from", self._backend, exc)) from exc

    def _write(self, entry: str, value: str) -> None:
        try:
            self._backend.set_password(SERVICE, entry, value)
        except Exception as exc:
            raise TokenStoreUnavailable(_failure("write to", self._backend, exc)) from exc

    def _remove(self, entry: str) -> None:
        try:
            self._backend.delete_password(SERVICE, entry)
        except keyring.errors.PasswordDeleteError:
            return  # Already gone: deleting is idempotent.
        except Exception as exc:
            raise TokenStoreUnavailable(_failure("delete from", self._backend, exc)) from exc


class FileTokenStore:
    """Opt-in store: a 0600 JSON file in a 0700 directory. Not encrypted, hence `insecure`."""

    insecure = True
    label = "file (less safe)"

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or platformdirs.user_data_path(SERVICE) / "insecure-tokens"
        self.path = self.directory / FILE_NAME
        self._lock = threading.Lock()

    def get(self, profile: str, key: str) -> str | None:
        """The value, None when the file or entry is missing or corrupt."""
        with self._lock:
            value = self._load().get(_entry(profile, key))
        return value if isinstance(value, str) else None

    def set(self, profile: str, key: str, value: str) -> None:
        """Rewrite the file atomically with the new value, then read it back."""
        with self._lock:
            entries = self._load()
            entries[_entry(profile, key)] = value
            self._save(entries)
        if self.get(profile, key) != value:
            raise TokenStoreUnavailable(f"Could not read the token file {self.path} back.")

    def delete(self, profile: str, key: str) -> None:
        """Remove the entry; missing is fine."""
        with self._lock:
            entries = self._load()
            if entries.pop(_entry(profile, key), None) is not None:
                self._save(entries)

    def _load(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            _log.warning("Ignoring an unreadable token file at %s", self.path)
            return {}
        entries = data.get("entries") if isinstance(data, dict) else None
        return dict(entries) if isinstance(entries, dict) else {}

    def _save(self, entries: dict[str, object]) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkdir's mode is filtered by the umask and ignored for an existing directory.
            os.chmod(self.directory, 0o700)
            tmp = self.path.with_suffix(".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            # Created 0600 from the start: open(path, "w") would be 0644 under umask 022.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"version": 1, "entries": entries}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise TokenStoreUnavailable(f"Cannot write the token file {self.path}: {exc}") from exc


class MemoryTokenStore:
    """Chosen explicitly when there is no keychain: tokens live in this process only."""

    insecure = False
    label = "not saved"

    def __init__(self) -> None:
        self._entries: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, profile: str, key: str) -> str | None:
        """The value, or None."""
        with self._lock:
            return self._entries.get(_entry(profile, key))

    def set(self, profile: str, key: str, value: str) -> None:
        """Keep until the process ends."""
        with self._lock:
            self._entries[_entry(profile, key)] = value

    def delete(self, profile: str, key: str) -> None:
        """Forget; missing is fine."""
        with self._lock:
            self._entries.pop(_entry(profile, key), None)


def open_token_store(
    *,
    allow_insecure_file: bool = False,
    backend: keyring.backend.KeyringBackend | None = None,
    directory: Path | None = None,
) -> TokenStore:
    """The keychain when usable; the file store only if the user opted in; else raise."""
    status = probe_keyring(backend)
    if status.usable:
        return KeyringTokenStore(backend)
    if allow_insecure_file:
        return FileTokenStore(directory)
    raise TokenStoreUnavailable(status.message)


def _entry(profile: str, key: str) -> str:
    return f"{profile}/{key}"


def _chunk_entry(profile: str, key: str, index: int) -> str:
    return f"{profile}/{key}#{index}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _parse_manifest(head: str) -> tuple[int, str]:
    """(chunk count, digest); a damaged manifest yields (0, "") and so reads as missing."""
    count, _, digest = head.removeprefix(MANIFEST_PREFIX).partition(":")
    return (int(count), digest) if count.isdigit() and 0 < int(count) <= MAX_CHUNKS else (0, "")


def _failure(action: str, backend: keyring.backend.KeyringBackend, exc: Exception) -> str:
    """A plain sentence naming the backend and error type, never the secret."""
    return (
        f"Could not {action} the keychain ({type(backend).__name__}: {type(exc).__name__}). "
        "Unlock it and try again, or opt in to a less safe 0600 file with "
        "IKAN_INSECURE_TOKEN_FILE=1."
    )
