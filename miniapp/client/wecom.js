// The official WeCom JS-SDK (ww.register, ww.scanQRCode) for pages opened inside WeCom.
import * as ww from "@wecom/jssdk";

window.ww = ww;
