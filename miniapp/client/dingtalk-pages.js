// The two pages DingTalk opens outside the mini-app, kept out of inline <script> so they run under the
// same Content-Security-Policy as everything else: the H5 free-login page (dingtalk.md 6) and the
// confirm page of an action link from a robot card. Each page carries its settings in a JSON island.

function signIn(cfg) {
  const msg = document.getElementById("msg");
  const fail = (text) => {
    msg.textContent = text;
  };
  const exchange = (code) =>
    fetch(cfg.sessionUrl, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code, next: cfg.next }) })
      .then((r) => r.json().then((b) => ({ ok: r.ok, body: b })))
      .then((r) => {
        if (r.ok && r.body.next) location.replace(r.body.next);
        else fail((r.body.error && r.body.error.message) || cfg.failed);
      })
      .catch(() => fail(cfg.failed));
  const got = (res) => (res && res.code ? exchange(res.code) : fail(cfg.failed));
  const dd = window.dd;
  // dingtalk-jsapi defines dd in any browser; outside the client dd.ready would wait forever.
  if (!dd || (dd.env && dd.env.platform === "notInDingTalk")) return fail(cfg.outside);
  const legacy = () => dd.runtime.permission.requestAuthCode({ corpId: cfg.corpId, onSuccess: got, onFail: () => fail(cfg.outside) });
  // Newer clients: dd.requestAuthCode({corpId, clientId}); older: dd.runtime.permission.requestAuthCode({corpId}).
  dd.ready(() => {
    if (typeof dd.requestAuthCode === "function") dd.requestAuthCode({ corpId: cfg.corpId, clientId: cfg.clientId, success: got, fail: legacy });
    else legacy();
  });
}

function confirmAction(island) {
  const btn = document.getElementById("go");
  btn.addEventListener("click", () => {
    btn.disabled = true;
    fetch(btn.dataset.url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: island.textContent }).then(
      (r) => {
        document.getElementById("msg").textContent = r.ok ? btn.dataset.ok : btn.dataset.failed;
      },
      () => {
        document.getElementById("msg").textContent = btn.dataset.failed;
      },
    );
  });
}

const h5 = document.getElementById("h5-config");
if (h5) signIn(JSON.parse(h5.textContent));
const act = document.getElementById("act");
if (act) confirmAction(act);
