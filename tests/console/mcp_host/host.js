// The MCP Apps test host: each view in its own sandboxed iframe, bridged to its app by AppBridge over postMessage.
// An app's tools/call goes to `window.callServerTool`, which Playwright exposes: the Python SDK client connected to
// the service's /mcp (Apps negotiated) calls the tool, as a real host would on the app's behalf.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const HOST_INFO = { name: "calendar-agent-test-host", version: "1.0.0" };
const CAPABILITIES = { serverTools: {}, updateModelContext: { text: {} }, logging: {},
                       sandbox: { csp: {} } };
const VIEW_WIDTH = 1040;
const modelContext = []; // what each app told the model, in order
const refused = []; // the tools an app asked for that the listing does not let it call

/** The tools an app may call: listed, and not kept for the model alone (`_meta.ui.visibility`). */
function callableByApps(tools) {
  const visible = (tool) => tool._meta?.ui?.visibility?.includes("app") ?? true;
  return new Set(tools.filter(visible).map((tool) => tool.name));
}

function listItem(text, data) {
  const item = document.createElement("li");
  item.textContent = text;
  item.dataset.json = JSON.stringify(data);
  return item;
}

/** An app's tools/call: refused unless the listing lets apps call it, else run by the Python client. */
async function callTool(callable, params) {
  if (!callable.has(params.name)) {
    refused.push(params.name);
    document.querySelector("#refused").append(listItem(params.name, params));
    throw new Error(`The host refuses ${params.name}: the tool listing does not offer it to apps.`);
  }
  return window.callServerTool(params.name, params.arguments ?? {});
}

/** ui/update-model-context: kept where the test (and a person looking at the host) can read it. */
async function updateModelContext(params) {
  modelContext.push(params);
  const text = (params.content ?? []).filter((block) => block.type === "text").map((block) => block.text);
  document.querySelector("#model-context").append(listItem(text.join("\n"), params));
  return {};
}

function viewFrame(view, index) {
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.title = view.tool.name;
  frame.dataset.view = String(index);
  frame.srcdoc = view.html;
  return frame;
}

function bridgeFor(frame, view, callable) {
  const hostContext = { locale: view.locale, theme: "light", displayMode: "inline", platform: "web",
                        toolInfo: { tool: view.tool }, containerDimensions: { width: VIEW_WIDTH, maxHeight: 4000 } };
  const bridge = new AppBridge(null, HOST_INFO, CAPABILITIES, { hostContext });
  bridge.oncalltool = (params) => callTool(callable, params);
  bridge.onupdatemodelcontext = updateModelContext;
  bridge.onsizechange = ({ height }) => { if (height) frame.style.height = `${Math.ceil(height)}px`; };
  return bridge;
}

/** Shows one view: its HTML in a sandboxed frame, then the tool's input and result once the app is initialized.
 * Resolves to the frame's index (`iframe[data-view="<index>"]`). */
async function open(view) {
  const index = document.querySelectorAll("#views iframe").length;
  const frame = viewFrame(view, index);
  document.querySelector("#views").append(frame);
  const bridge = bridgeFor(frame, view, callableByApps(view.tools));
  const initialized = new Promise((resolve) => bridge.addEventListener("initialized", resolve));
  await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
  await initialized;
  await bridge.sendToolInput({ arguments: view.arguments });
  await bridge.sendToolResult(view.result);
  frame.dataset.state = "delivered";
  return index;
}

window.mcpHost = { open, modelContext, refused };
document.body.dataset.ready = "true";
