from bot.services import Services
from tests.integration.test_account_flows import ALEX, SAM, MARIA, JORDAN, audit_actions, say, sent, web_code, bar, code_for, line_of


async def test_explore(demo_services: Services) -> None:
    s = demo_services
    async def t(text, who=ALEX, **kw):
        out = await say(s, text, who, **kw)
        print(f">>> [{who} {kw}] {text}\n{out}\n")
        return out
    po = await s.security.request_port_out(ALEX, "Other Mobile", source_id="x1")
    await t("port lock")
    await t("approve the transfer")
    await t("2468")
    await t("2")
    await t(await web_code(s, ALEX))
    await t("yes")
    print(await s.billing.list_port_outs())
    await t("not me")
    print(await s.billing.list_port_outs())
    await t("not me")
    line = await line_of(s, SAM)
    o = await s.billing.order_sim(line.id, "sim", idempotency_key="k", actor="t", now=s.clock.now())
    await s.security.activate_sim(o.reference)
    await t("not me", SAM)
    print(await line_of(s, SAM))
    await t("change my pin", SAM)
    await t("1357", SAM)
    print(await audit_actions(s))
    for e in await s.billing.list_audit(limit=100): print(e)
    assert False
