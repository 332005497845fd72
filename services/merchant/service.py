"""The merchant domain: onboarding, secrets, channel configs, pay passages, change events.

No gRPC here: the servicer translates protobuf to these calls and back. Every mutation commits
first and then announces itself on the shared-state topic ``config-changes``, which the gateways
follow (through WatchConfigChanges) to drop the pay contexts they cache.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.common import ids
from paymesh.services.common.errors import DomainError, InvalidArgument, NotFound
from paymesh.services.common.secretbox import SecretBox
from paymesh.services.common.waycodes import WAY_CODES
from paymesh.services.merchant.changes import ConfigChange, ConfigChangeFeed
from paymesh.services.merchant.channel_configs import app_params_context, open_app_params
from paymesh.services.merchant.isv import active_isv, open_isv_params
from paymesh.services.merchant.models import (
    MERCHANT_ISV_SUB,
    MERCHANT_NORMAL,
    STATE_ACTIVE,
    STATE_DISABLED,
    App,
    ChannelConfig,
    Isv,
    IsvChannelConfig,
    Merchant,
    PayPassage,
    config_key,
    utc_now,
)
from paymesh.services.merchant.repository import MerchantRepository
from paymesh.services.merchant.validation import (
    SANDBOX,
    PassageFees,
    PassageRouting,
    check_fees,
    check_if_code,
    check_routing,
    check_state,
    decode_cursor,
    encode_cursor,
    parse_channel_params,
    parse_contact,
    parse_name,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_APP_NAME = "default"
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
_WRITE_ATTEMPTS = 5  # generated ids clash on a primary key only rarely; retry with new ones


@dataclass(frozen=True)
class AppWithSecret:
    """An app with its secret in clear: only ever returned when the secret is (re)made."""

    app: App
    secret: str


@dataclass(frozen=True)
class NewMerchant:
    """A merchant just created, with its default app and that app's secret."""

    merchant: Merchant
    default_app: AppWithSecret


@dataclass(frozen=True)
class MerchantPage:
    """One page of merchants, newest first."""

    merchants: Sequence[Merchant]
    next_token: str
    has_more: bool


@dataclass(frozen=True)
class ChannelConfigView:
    """A channel config as operators may see it: parameter names, never values."""

    config: ChannelConfig
    param_names: list[str]


@dataclass(frozen=True)
class ResolvedPassage:
    """A passage with the state, decrypted parameters and key of the channel config behind it.

    ``config_key`` is empty when no config can serve it (the passage is then DISABLED).
    """

    passage: PayPassage
    config_state: int
    params_json: str
    config_key: str = ""


@dataclass(frozen=True)
class PayContext:
    """Everything the gateway needs to serve one app."""

    app: App
    merchant: Merchant
    app_secret: str
    passages: list[ResolvedPassage]


class MerchantService:
    """Merchants, apps, channel configs and passages, with secrets sealed at rest."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: SecretBox,
                 changes: ConfigChangeFeed) -> None:
        self._sessions = sessions
        self._box = box
        self._changes = changes

    # merchants

    async def create_merchant(self, name: str, contact: str, isv_no: str = "") -> NewMerchant:
        name, contact = parse_name(name), parse_contact(contact)

        async def work(repo: MerchantRepository) -> NewMerchant:
            now = utc_now()
            if isv_no:
                await active_isv(repo, isv_no)
            merchant = Merchant(mch_no=ids.merchant_no(), name=name, contact=contact,
                                state=STATE_ACTIVE, created_at=now,
                                type=MERCHANT_ISV_SUB if isv_no else MERCHANT_NORMAL,
                                isv_no=isv_no or None)
            repo.add(merchant)
            await repo.flush()
            app = self._new_app(merchant.mch_no, DEFAULT_APP_NAME, False)
            repo.add(app.app)
            return NewMerchant(merchant, app)

        created = await self._write(work)
        await self._changes.announce(ConfigChange("", created.merchant.mch_no))
        return created

    async def get_merchant(self, mch_no: str) -> Merchant:
        async with self._sessions.begin() as session:
            return await _merchant(MerchantRepository(session), mch_no)

    async def list_merchants(self, page_size: int, page_token: str) -> MerchantPage:
        if page_size == 0:
            page_size = DEFAULT_PAGE_SIZE
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument("page.page_size", f"page_size must be 1..{MAX_PAGE_SIZE}")
        after = decode_cursor(page_token) if page_token else None
        async with self._sessions.begin() as session:
            rows = await MerchantRepository(session).merchants_page(page_size + 1, after)
        page, has_more = rows[:page_size], len(rows) > page_size
        token = encode_cursor(page[-1].created_at, page[-1].mch_no) if has_more else ""
        return MerchantPage(page, token, has_more)

    async def set_merchant_state(self, mch_no: str, state: int) -> Merchant:
        check_state(state)

        async def work(repo: MerchantRepository) -> Merchant:
            merchant = await _merchant(repo, mch_no)
            merchant.state = state
            return merchant

        merchant = await self._write(work)
        await self._changes.announce(ConfigChange("", merchant.mch_no))
        return merchant

    # apps

    async def create_app(self, mch_no: str, name: str,
                         allow_private_notify_url: bool) -> AppWithSecret:
        name = parse_name(name)

        async def work(repo: MerchantRepository) -> AppWithSecret:
            await _merchant(repo, mch_no)
            made = self._new_app(mch_no, name, allow_private_notify_url)
            repo.add(made.app)
            return made

        created = await self._write(work)
        await self._changes.announce(ConfigChange(created.app.app_id, mch_no))
        return created

    async def get_app(self, app_id: str) -> App:
        async with self._sessions.begin() as session:
            return await _app(MerchantRepository(session), app_id)

    async def list_apps(self, mch_no: str) -> Sequence[App]:
        async with self._sessions.begin() as session:
            repo = MerchantRepository(session)
            await _merchant(repo, mch_no)
            return await repo.apps_of(mch_no)

    async def set_app_state(self, app_id: str, state: int) -> App:
        check_state(state)

        async def work(repo: MerchantRepository) -> App:
            app = await _app(repo, app_id)
            app.state = state
            return app

        app = await self._write(work)
        await self._changes.announce(ConfigChange(app.app_id, app.mch_no))
        return app

    async def rotate_app_secret(self, app_id: str) -> AppWithSecret:
        async def work(repo: MerchantRepository) -> AppWithSecret:
            app = await _app(repo, app_id)
            secret = ids.app_secret()
            app.secret_sealed = self._box.seal(secret, _app_context(app_id))
            return AppWithSecret(app, secret)

        rotated = await self._write(work)
        await self._changes.announce(ConfigChange(app_id, rotated.app.mch_no))
        return rotated

    # channel configs and passages

    async def put_channel_config(self, app_id: str, if_code: str, params_json: str,
                                 state: int) -> ChannelConfigView:
        check_if_code(if_code, "if_code")
        check_state(state)
        params = parse_channel_params(if_code, params_json)

        async def work(repo: MerchantRepository) -> tuple[ChannelConfigView, str]:
            app = await _app(repo, app_id)
            config = await repo.channel_config(app_id, if_code)
            if config is None:
                config = ChannelConfig(app_id=app_id, if_code=if_code)
                repo.add(config)
            config.params_sealed = self._seal_params(app_id, if_code, params)
            config.state = state
            config.updated_at = utc_now()
            await repo.flush()
            return ChannelConfigView(config, sorted(params)), app.mch_no

        view, mch_no = await self._write(work)
        await self._changes.announce(ConfigChange(app_id, mch_no))
        return view

    async def list_channel_configs(self, app_id: str) -> list[ChannelConfigView]:
        async with self._sessions.begin() as session:
            repo = MerchantRepository(session)
            await _app(repo, app_id)
            configs = await repo.channel_configs_of(app_id)
        return [ChannelConfigView(c, sorted(json.loads(self._open_params(c)))) for c in configs]

    async def put_pay_passage(self, app_id: str, way_code: str, if_code: str,
                              fees: PassageFees, state: int,
                              routing: PassageRouting | None = None) -> PayPassage:
        """Creates or replaces a passage with its fee model and routing settings."""
        if way_code not in WAY_CODES:
            raise InvalidArgument("way_code", f"unknown wayCode {way_code!r}")
        check_if_code(if_code, "if_code")
        check_state(state)
        fee = check_fees(fees)
        routing = check_routing(routing or PassageRouting())

        async def work(repo: MerchantRepository) -> tuple[PayPassage, str]:
            app = await _app(repo, app_id)
            merchant = await _merchant(repo, app.mch_no)
            if (merchant.isv_no and if_code != SANDBOX
                    and await repo.isv_channel_config(merchant.isv_no, if_code) is None):
                raise DomainError(
                    "CHANNEL_CONFIG_NOT_FOUND",
                    f"ISV {merchant.isv_no} has no {if_code} channel account: put one first",
                    field="if_code")
            if await repo.channel_config(app_id, if_code) is None:
                if if_code != SANDBOX:
                    raise DomainError(
                        "CHANNEL_CONFIG_NOT_FOUND",
                        f"app {app_id} has no {if_code} channel config: put one first",
                        field="if_code")
                params = parse_channel_params(SANDBOX, "")
                repo.add(ChannelConfig(app_id=app_id, if_code=SANDBOX, state=STATE_ACTIVE,
                                       params_sealed=self._seal_params(app_id, SANDBOX, params),
                                       updated_at=utc_now()))
            passage = await repo.passage(app_id, way_code, if_code)
            if passage is None:
                passage = PayPassage(app_id=app_id, way_code=way_code, if_code=if_code)
                repo.add(passage)
            passage.fee_rate, passage.state = fee.rate, state
            passage.fee_fixed, passage.fee_floor, passage.fee_cap = fee.fixed, fee.floor, fee.cap
            passage.fee_rounding, passage.refund_fee_rule = fee.rounding, fee.refund_rule
            passage.channel_cost_rate = fee.channel_cost_rate
            passage.priority, passage.weight = routing.priority, routing.weight
            passage.max_amount, passage.daily_limit = routing.max_amount, routing.daily_limit
            passage.updated_at = utc_now()
            await repo.flush()
            return passage, app.mch_no

        passage, mch_no = await self._write(work)
        await self._changes.announce(ConfigChange(app_id, mch_no))
        return passage

    async def list_pay_passages(self, app_id: str) -> Sequence[PayPassage]:
        async with self._sessions.begin() as session:
            repo = MerchantRepository(session)
            await _app(repo, app_id)
            return await repo.passages_of(app_id)

    # the gateway's side

    async def resolve_pay_context(self, app_id: str) -> PayContext:
        """The app, its merchant, its secret in clear and every passage with its channel."""
        async with self._sessions.begin() as session:
            repo = MerchantRepository(session)
            app = await _app(repo, app_id)
            merchant = await _merchant(repo, app.mch_no)
            configs = {c.if_code: c for c in await repo.channel_configs_of(app_id)}
            passages = await repo.passages_of(app_id)
            isv = await repo.isv(merchant.isv_no) if merchant.isv_no else None
            isv_configs = ({c.if_code: c for c in await repo.isv_channel_configs_of(isv.isv_no)}
                           if isv else {})
        resolved = []
        for passage in passages:
            config = configs.get(passage.if_code)
            if config is None:  # cannot happen through this service; never serve it
                resolved.append(ResolvedPassage(passage, STATE_DISABLED, "{}"))
            elif isv is None or passage.if_code == SANDBOX:
                resolved.append(ResolvedPassage(passage, config.state, self._open_params(config),
                                                config_key(app_id, passage.if_code)))
            else:
                resolved.append(self._through_isv(passage, config, isv,
                                                  isv_configs.get(passage.if_code)))
        secret = self._box.open(app.secret_sealed, _app_context(app_id))
        return PayContext(app, merchant, secret, resolved)

    def watch_changes(self, on_ready: Callable[[], Awaitable[None]]
                      ) -> AsyncIterator[ConfigChange]:
        """Every change committed from now on, by any replica, until the caller stops.

        ``on_ready`` is awaited once the subscription is live, so a watcher knows that nothing
        committed after that moment can be missed. The stream ends when ``end_watches`` is called.
        """
        return self._changes.watch(on_ready)

    def end_watches(self) -> None:
        """Ends every change stream (and refuses new ones): the server is stopping.

        Streams never finish on their own, so without this they would hold the graceful drain
        for its whole grace period; watchers reconnect to another replica and drop their caches.
        """
        self._changes.end_watches()

    # internals

    async def _write(self, work: Callable[[MerchantRepository], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction, again (with fresh ids) after a key clash."""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                async with self._sessions.begin() as session:
                    return await work(MerchantRepository(session))
            except IntegrityError:
                if attempt == _WRITE_ATTEMPTS:
                    raise
                log.warning("key clash, retrying (attempt %d)", attempt)
        raise AssertionError("unreachable")

    def _new_app(self, mch_no: str, name: str, allow_private: bool) -> AppWithSecret:
        app_id, secret = ids.app_id(), ids.app_secret()
        app = App(app_id=app_id, mch_no=mch_no, name=name, state=STATE_ACTIVE,
                  secret_sealed=self._box.seal(secret, _app_context(app_id)),
                  allow_private_notify_url=allow_private, created_at=utc_now())
        return AppWithSecret(app, secret)

    def _through_isv(self, passage: PayPassage, config: ChannelConfig, isv: Isv,
                     account: IsvChannelConfig | None) -> ResolvedPassage:
        """A sub-merchant's passage: the ISV's account with the app's own ids under "sub"."""
        if account is None:
            return ResolvedPassage(passage, STATE_DISABLED, "{}")
        usable = config.state == account.state == isv.state == STATE_ACTIVE
        params = {**open_isv_params(self._box, account),
                  "sub": json.loads(self._open_params(config))}
        return ResolvedPassage(passage, STATE_ACTIVE if usable else STATE_DISABLED,
                               json.dumps(params, ensure_ascii=False),
                               config_key(isv.isv_no, passage.if_code))

    def _seal_params(self, app_id: str, if_code: str, params: dict[str, object]) -> str:
        return self._box.seal(json.dumps(params, ensure_ascii=False),
                              app_params_context(app_id, if_code))

    def _open_params(self, config: ChannelConfig) -> str:
        return open_app_params(self._box, config)


def _app_context(app_id: str) -> str:
    return f"app-secret:{app_id}"


async def _merchant(repo: MerchantRepository, mch_no: str) -> Merchant:
    merchant = await repo.merchant(mch_no) if mch_no else None
    if merchant is None:
        raise NotFound("MERCHANT_NOT_FOUND", f"merchant {mch_no!r} not found")
    return merchant


async def _app(repo: MerchantRepository, app_id: str) -> App:
    app = await repo.app(app_id) if app_id else None
    if app is None:
        raise NotFound("APP_NOT_FOUND", f"app {app_id!r} not found")
    return app
