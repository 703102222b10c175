// The bridge API as the console uses it: JSON over fetch, with the staff session's cookie (same origin) or, in the
// single-token mode, the operator token on every call.

const TOKEN_KEY = "clinic-console.operator-token";

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** The operator token, kept for this browser tab only. */
export const operatorToken = {
  get() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  },
  set(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** Listeners told when the server refuses the token or the session (the page asks to sign in again). */
export const unauthorized = new EventTarget();

/** `method path` with an optional JSON body; the parsed answer, or an ApiError with the server's sentence.
 * `silent`: a 401 is only thrown, not announced (asking who is signed in). */
export async function api(path, { method = "GET", body, token = operatorToken.get(), silent = false } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "The service could not be reached. Check the connection and try again.");
  }
  const answer = await response.json().catch(() => null);
  if (response.ok) return answer;
  if (response.status === 401 && !silent) unauthorized.dispatchEvent(new Event("unauthorized"));
  const error = answer && answer.error;
  const message = (error && (error.message || error)) || `The request failed (HTTP ${response.status}).`;
  throw new ApiError(response.status, (error && error.code) || "http_error", String(message), answer);
}

/** The realtime channel's address; the token goes in the query (browsers cannot set WebSocket headers); a staff
 * session's cookie goes with the handshake by itself. */
export function realtimeUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const token = operatorToken.get();
  return `${scheme}//${location.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ""}`;
}
