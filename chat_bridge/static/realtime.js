// The realtime channel: one WebSocket, reconnected with backoff; each JSON frame becomes an "event".

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

export class Realtime extends EventTarget {
  constructor(urlFn) {
    super();
    this.urlFn = urlFn;
    this.socket = null;
    this.delay = FIRST_DELAY_MS;
    this.stopped = true;
    this.everOpened = false;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  connect() {
    this.status("connecting");
    const socket = new WebSocket(this.urlFn());
    this.socket = socket;
    socket.addEventListener("open", () => this.opened());
    socket.addEventListener("message", (frame) => this.received(frame.data));
    socket.addEventListener("close", () => this.closed(socket));
  }

  opened() {
    this.delay = FIRST_DELAY_MS;
    this.status("open");
    // After a reconnection, events may have been missed: listeners reload what they show.
    if (this.everOpened) this.dispatchEvent(new Event("resync"));
    this.everOpened = true;
  }

  received(data) {
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (event && typeof event.type === "string") this.dispatchEvent(new CustomEvent("event", { detail: event }));
  }

  closed(socket) {
    if (socket !== this.socket || this.stopped) return;
    this.status("offline");
    this.timer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
  }

  status(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: state }));
  }
}
