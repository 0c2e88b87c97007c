"""`ikan-console login | logout | whoami`: the session commands, in a plain terminal.

They use the same `SessionKeeper` as the TUI, so a `login` here is the session the TUI resumes.
Output for people goes to stderr, the one fact a script may want (whoami) to stdout.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import IkanError, PlatformUnreachable
from ikan_console.api.models import CONSOLE_ROLES, User
from ikan_console.auth.entra import DeviceCodePrompt
from ikan_console.auth.token_store import TokenStoreUnavailable
from ikan_console.config import ConsoleSettings, Profile
from ikan_console.session import SessionKeeper, SignInFailed, refusal_message

EXIT_OK, EXIT_NOT_SIGNED_IN, EXIT_FAILED = 0, 1, 2


class TerminalEvents:
    """Tells the person at the terminal what to do while the identity provider waits."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def browser_opened(self, url: str) -> None:
        """Print the URL in case no browser opened."""
        say(
            f"Sign in with {self.provider} in your browser. If no browser window opened, open "
            f"this address on this computer:\n\n  {url}\n\nWaiting… (Ctrl-C cancels)"
        )

    def device_code(self, prompt: DeviceCodePrompt) -> None:
        """Print the code and where to type it."""
        say(
            f"On any device, open {prompt.verification_uri} and enter the code "
            f"{prompt.user_code}\n\nWaiting… (Ctrl-C cancels)"
        )


def say(text: str) -> None:
    """A line for the person (stderr keeps stdout for results)."""
    print(text, file=sys.stderr, flush=True)


def describe(user: User, profile: Profile) -> str:
    """Who, in which role, on which profile."""
    return f"{user.name} <{user.email}> · {user.role_label} · profile {profile.name}"


async def login(profile: Profile, settings: ConsoleSettings, method: Any) -> int:
    """Sign in through the identity provider and keep the platform session."""
    keeper, client, failed = await _open(profile, settings)
    if failed is not None:
        return failed
    try:
        current = await keeper.restore(client)
        if current is not None:
            say(f"Already signed in: {describe(current, profile)}. Run logout first to switch.")
            return EXIT_OK
        try:
            user = await keeper.sign_in(client, TerminalEvents(keeper.provider_label), method)
        except asyncio.CancelledError:
            keeper.cancel()  # the browser or device-code wait runs in a thread: stop it too
            raise
        if user.role not in CONSOLE_ROLES:
            await keeper.sign_out(client)
            say(refusal_message(user.name, user.role))
            return EXIT_FAILED
        warning = await keeper.flush()
        say(f"Signed in: {describe(user, profile)}.")
        if warning:
            say(f"But the sign-in could not be saved: {warning}")
            return EXIT_FAILED
        return EXIT_OK
    except (SignInFailed, IkanError, TokenStoreUnavailable) as error:
        say(f"Sign-in failed: {error}")
        return EXIT_FAILED
    finally:
        await _close(keeper, client)


async def logout(profile: Profile, settings: ConsoleSettings, method: Any) -> int:
    """Revoke the stored session on the platform and delete the stored tokens."""
    keeper, client, failed = await _open(profile, settings)
    if failed is not None:
        return failed
    try:
        confirmed = await keeper.log_out_stored(client)
    except TokenStoreUnavailable as error:
        say(f"Not signed out of profile {profile.name}: {error}")
        return EXIT_FAILED
    except IkanError as error:
        say(f"Stored tokens deleted, but the platform refused the sign-out: {error}")
        return EXIT_FAILED
    finally:
        await _close(keeper, client)
    if not confirmed:
        say(
            f"Stored tokens deleted, but the platform at {profile.api_url} was unreachable, so "
            "the session could not be revoked there; it ends by itself when it expires."
        )
        return EXIT_FAILED
    say(f"Signed out of profile {profile.name}.")
    return EXIT_OK


async def whoami(profile: Profile, settings: ConsoleSettings, method: Any) -> int:
    """Print who is signed in on the profile, or that nobody is."""
    keeper, client, failed = await _open(profile, settings)
    if failed is not None:
        return failed
    try:
        user = await keeper.restore(client)
    except PlatformUnreachable as error:
        say(f"Profile {profile.name}: the platform is unreachable ({error}). Your sign-in is kept.")
        return EXIT_FAILED
    except (IkanError, TokenStoreUnavailable) as error:
        say(f"Profile {profile.name}: {error}")
        return EXIT_FAILED
    finally:
        await _close(keeper, client)
    if user is None:
        name = profile.name
        say(f"Not signed in (profile {name}). Run: ikan-console --profile {name} login")
        return EXIT_NOT_SIGNED_IN
    print(describe(user, profile))
    return EXIT_OK


async def _open(
    profile: Profile, settings: ConsoleSettings
) -> tuple[SessionKeeper, PlatformClient, int | None]:
    """The keeper with its store open, and a client; or the exit code when there is no store."""
    keeper = SessionKeeper(profile, allow_insecure_file=settings.insecure_token_file)
    client = keeper.connect(profile.api_url)
    try:
        await asyncio.to_thread(keeper.open_store)
    except TokenStoreUnavailable as error:
        say(str(error))
        await _close(keeper, client)
        return keeper, client, EXIT_FAILED
    if keeper.insecure_label:
        say(f"Note: this profile keeps its sign-in in a {keeper.insecure_label} store.")
    return keeper, client, None


async def _close(keeper: SessionKeeper, client: PlatformClient) -> None:
    await client.aclose()
    await asyncio.to_thread(keeper.close)
