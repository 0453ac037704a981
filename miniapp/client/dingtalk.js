// The parts of dingtalk-jsapi the pages use, imported one by one: the whole package is ~72 KB gzipped,
// these are a fraction of it. `dd` keeps the package's own shape so page code reads like its docs.
import core from "dingtalk-jsapi/core";
import requestAuthCode from "dingtalk-jsapi/api/union/requestAuthCode";
import legacyRequestAuthCode from "dingtalk-jsapi/api/runtime/permission/requestAuthCode";
import scan from "dingtalk-jsapi/api/biz/util/scan";

window.dd = Object.assign({}, core, {
  requestAuthCode,
  runtime: { permission: { requestAuthCode: legacyRequestAuthCode } },
  biz: { util: { scan } },
});
