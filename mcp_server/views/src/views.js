// The MCP Apps views (`ui://calendar/...`): one bundle, two documents. `<body data-view>` says which view this
// document is; the host (an MCP client that negotiated Apps) talks to it over postMessage through ext-apps' `App`.
// The views draw with the console's own components, in the host's language.

import { App } from "@modelcontextprotocol/ext-apps";
import { useTimeZone } from "../../../chat_bridge/static/dom.js";
import { useLanguage } from "../../../chat_bridge/static/i18n.js";
import { BatchPreview } from "./preview.js";
import { WeekView } from "./week.js";

const VIEWS = { week: WeekView, "batch-preview": BatchPreview };

/** The host's language ("ar…" is Arabic, anything else English); none keeps the page's. */
function followLanguage(context) {
  const locale = String(context?.locale || "").toLowerCase();
  if (!locale) return false;
  useLanguage(locale.startsWith("ar") ? "ar" : "en");
  useTimeZone(); // the formats again, in the new language and the same zone
  return true;
}

async function start() {
  const root = document.getElementById("view");
  const app = new App({ name: "clinic-calendar-views", version: "1.0.0" }, {}, { autoResize: true });
  const view = new VIEWS[document.body.dataset.view](root, app);
  // Handlers first: the host may send the tool's input and result as soon as the handshake ends.
  app.ontoolinput = (params) => view.input(params.arguments || {});
  app.ontoolresult = (result) => view.result(result);
  app.onhostcontextchanged = (changed) => { if (followLanguage(changed)) view.redraw(); };
  try {
    await app.connect();
  } catch (error) {
    view.failed(error);
    return;
  }
  followLanguage(app.getHostContext());
  view.connected();
}

start();
