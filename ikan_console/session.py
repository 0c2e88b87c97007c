"""One profile's sign-in: identity provider, platform exchange, stored tokens, restore, sign-out.

No Textual here: the sign-in screen and the ``login``/``logout``/``whoami`` subcommands drive the
same `SessionKeeper`, so a terminal sign-in and a TUI sign-in cannot drift apart. The blocking
parts (msal, google-auth, keyring) run in threads via `asyncio.to_thread`; the IdP's progress
(a URL to open, a device code to type) reaches the caller through `SignInEvents`, called from
that thread. Token writes go through one writer thread in order, so the rotated platform
refresh token (`PlatformAuth` calls `on_tokens` on every rotation) never blocks the UI and an
older token never overwrites a newer one. What is kept: the platform refresh token, and the
Entra refresh token for silent sign-in; never an access token or an ID token.

Several processes may use one profile at once (the TUI, and ``whoami`` in another terminal),
and each refresh rotates the one stored platform session. So every spend of the stored
refresh token (resume, refresh, revoke) happens under a per-profile file lock in the user's
state directory, held from reading the store until the renewed token is written; and a
refresh spends what the store holds when another process stored it after this one
(`latest_refresh_token`), never a copy this process knows to be spent.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import platformdirs

from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import IkanError, PlatformUnreachable, SessionExpired
from ikan_console.api.models import ROLE_LABELS, Tokens, User
from ikan_console.auth.entra import (
    DEFAULT_TIMEOUT_SECONDS,
    Attempt,
    DeviceCodePrompt,
    EntraSignIn,
    SignInResult,
    SignInStatus,
    should_use_device_code,
)
from ikan_console.auth.file_lock import FileLock
from ikan_console.auth.google import GoogleSignIn
from ikan_console.auth.token_store import (
    IDP_REFRESH_TOKEN,
    PLATFORM_REFRESH_TOKEN,
    SERVICE,
    MemoryTokenStore,
    TokenStore,
    TokenStoreUnavailable,
    open_token_store,
)
from ikan_console.config import Profile

Method = Literal["auto", "browser", "device_code"]
REFUSALS = {
    "rmc": "Relocation Managers use the ikan web portal to follow their assignments.",
    "supplier": "Suppliers answer bookings in the ikan supplier portal.",
    "traveler": "Travelers see their stay in the ikan app.",
}
PROVIDER_LABELS = {"entra": "Microsoft", "google": "Google"}
BLOCKED_HINT = "Your organisation blocks device-code sign-in here; choose the browser instead."
OFFLINE_HINT = "Check your network or VPN, then try again; nothing was changed."

_log = logging.getLogger(__name__)


class SignInFailed(Exception):
    """The identity provider gave no ID token; `status` says why, `str()` is for people."""

    def __init__(self, status: SignInStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class SignInEvents(Protocol):
    """What the user must see while the identity provider waits; called from a worker thread."""

    def browser_opened(self, url: str) -> None:
        """A browser sign-in started at `url` (shown in case no browser window opened)."""
        ...

    def device_code(self, prompt: DeviceCodePrompt) -> None:
        """Device code: the user types `prompt.user_code` at `prompt.verification_uri`."""
        ...


def refusal_message(name: str, role: str) -> str:
    """Why someone with this role cannot use the console, and where to go instead."""
    label = ROLE_LABELS.get(role, role)
    where = REFUSALS.get(role, "")
    return (
        f"Not signed in: {name} is a {label}, and ikan console is only for Operations and "
        f"Admin staff. {where}"
    ).strip()


def sign_in_for(profile: Profile) -> EntraSignIn | GoogleSignIn:
    """The identity provider client for a profile."""
    idp = profile.idp
    if idp.kind == "entra":
        return EntraSignIn(idp.tenant_id, idp.client_id, authority_base=idp.authority_base)
    if idp.kind == "google":
        return GoogleSignIn(idp.client_id, idp.client_secret, idp.allowed_domains)
    raise ValueError("the sandbox signs in without an identity provider")


@dataclass
class SessionKeeper:
    """Signs one profile in and out, and keeps its tokens in the chosen store."""

    profile: Profile
    allow_insecure_file: bool = False
    make_sign_in: Callable[[Profile], Any] = sign_in_for
    use_device_code: Callable[[], bool] = should_use_device_code
    browser_timeout: float = DEFAULT_TIMEOUT_SECONDS
    store: TokenStore | None = None
    other_profiles: tuple[str, ...] = ()
    # Where the per-profile refresh lock lives (default: the user's state directory).
    lock_dir: Path | None = None
    _sign_in: Any = field(default=None, init=False, repr=False)
    _attempt: Attempt | None = field(default=None, init=False, repr=False)
    _writer: ThreadPoolExecutor = field(init=False, repr=False)
    _write_error: str | None = field(default=None, init=False)
    # Digests of the platform refresh tokens this process stored or spent: a stored token
    # among them is one of ours (a later write may have failed), never newer than memory.
    _known: set[str] = field(default_factory=set, init=False, repr=False)
    _lock: FileLock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ikan-token-store")
        directory = self.lock_dir or platformdirs.user_state_path(SERVICE) / "locks"
        self._lock = FileLock(directory / f"{self.profile.name}.refresh.lock")

    @property
    def provider(self) -> str:
        """The exchange provider name: ``entra`` or ``google``."""
        return self.profile.idp.kind

    @property
    def provider_label(self) -> str:
        """The provider as people name it."""
        return PROVIDER_LABELS.get(self.provider, self.provider)

    @property
    def insecure_label(self) -> str | None:
        """The store's label when it is less safe than a keychain (shown in the header)."""
        return self.store.label if self.store is not None and self.store.insecure else None

    # -- the token store ---------------------------------------------------------------------

    def open_store(self) -> TokenStore:
        """The keychain, or the opted-in file; raise `TokenStoreUnavailable` (blocking)."""
        if self.store is None:
            self.store = open_token_store(allow_insecure_file=self.allow_insecure_file)
        return self.store

    def keep_in_memory(self) -> TokenStore:
        """The user chose to sign in without saving anything (no keychain)."""
        self.store = MemoryTokenStore()
        return self.store

    def stored(self, key: str) -> str | None:
        """A stored value (blocking); None when nothing is stored or the store is not open."""
        return self.store.get(self.profile.name, key) if self.store is not None else None

    def connect(self, api_url: str, **client: Any) -> PlatformClient:
        """A client for this profile whose session renewals stay in step with other processes."""
        platform = PlatformClient(api_url, on_tokens=self.on_tokens, **client)
        platform.auth.latest_refresh_token = self.latest_refresh_token
        platform.auth.refresh_lock = self.refresh_lock
        return platform

    def on_tokens(self, tokens: Tokens | None) -> None:
        """`PlatformAuth` callback: keep the newest platform refresh token, or forget it."""
        if tokens is not None:
            self._known.add(_digest(tokens.refresh_token))
        self._queue(PLATFORM_REFRESH_TOKEN, tokens.refresh_token if tokens else None)

    async def latest_refresh_token(self) -> str | None:
        """The stored platform refresh token if another process stored it after us, else None.

        Called by `PlatformAuth` inside `refresh_lock`, right before it spends a token; read
        through the writer thread, so this process's own queued writes land first.
        """
        try:
            value = await self._read(PLATFORM_REFRESH_TOKEN)
        except TokenStoreUnavailable as error:
            # Spending the copy in memory could be spending a rotated token: wait instead.
            raise IkanError(str(error), hint="You are still signed in.") from None
        if not value or _digest(value) in self._known:
            return None
        self._known.add(_digest(value))
        return value

    @asynccontextmanager
    async def refresh_lock(self) -> AsyncIterator[None]:
        """The profile's lock, from reading the stored token until its successor is stored.

        A lock file that cannot be created only costs that protection (logged); a session-only
        store shares nothing with other processes and takes no lock.
        """
        async with AsyncExitStack() as stack:
            try:
                if self._shares_store():
                    await stack.enter_async_context(self._lock.held())
            except TimeoutError:
                raise IkanError(
                    f"Another ikan console on profile {self.profile.name} is still renewing "
                    "the session.",
                    hint="You are still signed in; try again in a moment.",
                ) from None
            except OSError as error:
                _log.warning("Renewing without the cross-process lock: %s", error)
            try:
                yield
            finally:
                await self._drain()  # the renewed token is stored before anyone else reads

    def _shares_store(self) -> bool:
        """Whether other processes can see this store (a session-only store they cannot)."""
        return self.store is not None and not isinstance(self.store, MemoryTokenStore)

    async def _read(self, key: str) -> str | None:
        """A stored value, read after every write queued so far."""
        return await asyncio.wrap_future(self._writer.submit(self.stored, key))

    async def _drain(self) -> None:
        """Wait until every queued write has been made (or has failed and said why)."""
        await asyncio.wrap_future(self._writer.submit(lambda: None))

    def _queue(self, key: str, value: str | None) -> Future[None]:
        return self._writer.submit(self._write, key, value)

    def _write(self, key: str, value: str | None) -> None:
        store = self.store
        if store is None:
            return
        try:
            if value is None:
                store.delete(self.profile.name, key)
            else:
                store.set(self.profile.name, key, value)
        except TokenStoreUnavailable as error:
            _log.warning("Could not update the token store (%s): %s", key, error)
            self._write_error = str(error)

    async def flush(self) -> str | None:
        """Wait for queued writes; return why the last failed one failed (once), else None."""
        await self._drain()
        error, self._write_error = self._write_error, None
        return error

    def close(self) -> None:
        """Finish queued writes and stop the writer thread."""
        self._writer.shutdown(wait=True)

    # -- sessions ----------------------------------------------------------------------------

    async def restore(self, client: PlatformClient) -> User | None:
        """Resume the stored platform session; None when there is none or it was refused.

        `PlatformUnreachable` propagates and the stored token is kept: offline is not signed out.
        """
        async with self.refresh_lock():
            refresh_token = await self._read(PLATFORM_REFRESH_TOKEN)
            if not refresh_token:
                return None
            self._known.add(_digest(refresh_token))
            try:
                user = await client.resume(refresh_token)
            except SessionExpired:
                self._queue(PLATFORM_REFRESH_TOKEN, None)
                user = None
        await self.flush()
        return user

    def begin(self) -> Attempt:
        """A new sign-in attempt for `sign_in`; one still waiting is cancelled first.

        Create it as soon as the user asks to sign in: `cancel` then reaches this attempt in
        whichever step it is (silent sign-in, the nonce, the browser, the exchange).
        """
        self.cancel()
        self._attempt = Attempt()
        return self._attempt

    async def sign_in(
        self,
        client: PlatformClient,
        events: SignInEvents,
        method: Method = "auto",
        attempt: Attempt | None = None,
    ) -> User:
        """Identity provider, then the platform exchange; raise `SignInFailed` or `IkanError`."""
        attempt = attempt or self.begin()
        sign_in = self._provider()
        nonce: str | None = None
        if isinstance(sign_in, GoogleSignIn):
            # Google echoes the nonce into the ID token; the platform issues and burns it.
            nonce = await client.issue_nonce()
            result = await asyncio.to_thread(
                sign_in.interactive,
                nonce,
                timeout=self.browser_timeout,
                on_auth_url=events.browser_opened,
                attempt=attempt,
            )
        else:
            result = await self._entra(sign_in, events, method, attempt)
        if attempt.cancelled.is_set():  # e.g. Esc while a silent sign-in was finishing
            raise SignInFailed(SignInStatus.CANCELLED, "Sign-in cancelled.")
        if not result.ok:
            message = result.message or "Sign-in did not finish."
            if result.status is SignInStatus.BLOCKED:
                message = f"{message} {BLOCKED_HINT}"
            elif result.status is SignInStatus.OFFLINE:
                message = f"{message} {OFFLINE_HINT}"
            raise SignInFailed(result.status, message)
        user = await client.exchange(self.provider, result.id_token or "", result.nonce or nonce)
        if attempt.cancelled.is_set():  # cancelled during the exchange: end that session again
            await client.sign_out()
            raise SignInFailed(SignInStatus.CANCELLED, "Sign-in cancelled.")
        # Only now: a person the platform refuses leaves no IdP refresh token behind.
        if result.refresh_token:
            self._queue(IDP_REFRESH_TOKEN, result.refresh_token)
        return user

    async def _entra(
        self, sign_in: EntraSignIn, events: SignInEvents, method: Method, attempt: Attempt
    ) -> Any:
        if method == "auto":
            stored = await asyncio.to_thread(self.stored, IDP_REFRESH_TOKEN)
            result: SignInResult = await asyncio.to_thread(sign_in.silent, stored)
            if result.ok or result.status is SignInStatus.OFFLINE:
                return result
            method = "device_code" if self.use_device_code() else "browser"
        # Both return CANCELLED at once when the attempt was cancelled meanwhile.
        if method == "device_code":
            return await asyncio.to_thread(sign_in.device_code, events.device_code, attempt)
        return await asyncio.to_thread(
            sign_in.interactive,
            timeout=self.browser_timeout,
            on_auth_url=events.browser_opened,
            attempt=attempt,
        )

    def cancel(self) -> None:
        """Stop the sign-in attempt in progress, whichever step it is at; safe from any thread."""
        if self._attempt is not None:
            self._attempt.cancel()

    async def sign_out(self, client: PlatformClient) -> None:
        """Revoke on the platform (best effort), forget both refresh tokens and the MSAL cache."""
        await client.sign_out()
        self._queue(IDP_REFRESH_TOKEN, None)
        if isinstance(self._sign_in, EntraSignIn):
            await asyncio.to_thread(self._sign_in.sign_out)
        await self.flush()

    async def log_out_stored(self, client: PlatformClient) -> bool:
        """Revoke the stored session without resuming it, then forget everything stored.

        True when the platform confirmed; False when it was unreachable (the tokens are deleted
        here all the same, and the platform session ends by itself when its refresh token expires).
        """
        async with self.refresh_lock():
            refresh_token = await self._read(PLATFORM_REFRESH_TOKEN)
            confirmed = True
            if refresh_token:
                try:
                    await client.revoke(refresh_token)
                except PlatformUnreachable:
                    confirmed = False
            self._queue(PLATFORM_REFRESH_TOKEN, None)
            self._queue(IDP_REFRESH_TOKEN, None)
        await self.flush()
        return confirmed

    def _provider(self) -> Any:
        """One identity-provider client per keeper (Entra: one MSAL app and its cache)."""
        if self._sign_in is None:
            self._sign_in = self.make_sign_in(self.profile)
        return self._sign_in


def _digest(token: str) -> str:
    """A token's fingerprint, so the keeper remembers tokens without keeping them."""
    return hashlib.sha256(token.encode()).hexdigest()
