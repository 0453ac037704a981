// The platform's barcode scanner: WeCom ww.scanQRCode (after ww.register with our JS-SDK signatures),
// DingTalk biz.util.scan (after dd.config with our JSAPI signature). Elsewhere there is no scanner and
// the page offers typing the code instead.
import { getJson } from "./api.js";

const pageUrl = () => location.href.split("#")[0];

export function scannerAvailable(platform) {
  return (platform === "wecom" && !!window.ww) || (platform === "dingtalk" && !!window.dd);
}

let registered = null;

function wecomScan() {
  const ww = window.ww;
  registered =
    registered ||
    getJson("/wecom/jssdk-config?url=" + encodeURIComponent(pageUrl())).then((cfg) => {
      ww.register({
        corpId: cfg.config.appId,
        agentId: cfg.agentConfig.agentid,
        jsApiList: ["scanQRCode"],
        getConfigSignature: () => cfg.config,
        getAgentConfigSignature: () => cfg.agentConfig,
      });
    });
  return registered.then(() =>
    ww.scanQRCode({ needResult: true, scanType: ["barCode", "qrCode"] }).then((res) => {
      // Barcodes come back as "EAN_13,6920261000001".
      const text = String(res.resultStr || "");
      return text.includes(",") ? text.split(",").pop() : text;
    }),
  );
}

function dingtalkScan() {
  const dd = window.dd;
  registered =
    registered ||
    getJson("/dingtalk/jsapi-config?url=" + encodeURIComponent(pageUrl())).then(
      (cfg) =>
        new Promise((resolve, reject) => {
          dd.config(cfg);
          dd.error(reject);
          dd.ready(resolve);
        }),
    );
  return registered.then(
    () =>
      new Promise((resolve, reject) => {
        dd.biz.util.scan({ type: "barCode", onSuccess: (res) => resolve(String(res.text || "")), onFail: reject });
      }),
  );
}

/** The scanned code, or null when the person cancelled or the scanner failed (they can type it). */
export async function scanCode(platform) {
  try {
    if (platform === "wecom" && window.ww) return await wecomScan();
    if (platform === "dingtalk" && window.dd) return await dingtalkScan();
  } catch {
    registered = null;
  }
  return null;
}
