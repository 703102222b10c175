// Who signed a change, in words: "Amal", "Agent for Amal", "App for Amal", "Customer", "System". The server says
// the kind (`by`: operator, agent, client, customer, system), the account (`author`: a username, or a customer's
// number) and the name to read (`author_name`); a change made without accounts (one operator token) has no author.

import { define, t } from "./i18n.js";

define({
  "author.operator": { en: "Operator", ar: "موظف الاستقبال" },
  "author.agent": { en: "Agent", ar: "المساعد" },
  "author.client": { en: "App", ar: "تطبيق" },
  "author.customer": { en: "Customer", ar: "العميل" },
  "author.system": { en: "System", ar: "النظام" },
  "author.unknown": { en: "Not recorded", ar: "غير مسجَّل" },
  "author.agent_for": { en: "Agent for {name}", ar: "المساعد نيابةً عن {name}" },
  "author.client_for": { en: "App for {name}", ar: "تطبيق نيابةً عن {name}" },
  "author.customer_named": { en: "Customer {name}", ar: "العميل {name}" },
});

const KINDS = new Set(["operator", "agent", "client", "customer", "system"]);

/** The signature of a change as a person reads it. `signed`: {by, author, author_name} as the server sent them. */
export function authorLabel({ by, author, author_name: authorName }) {
  if (!by) return t("author.unknown");
  const name = authorName || (by === "customer" && author ? `+${author}` : author);
  if (!name || !KINDS.has(by)) return KINDS.has(by) ? t(`author.${by}`) : String(by);
  if (by === "operator") return name;
  if (by === "customer") return t("author.customer_named", { name });
  return by === "system" ? t("author.system") : t(`author.${by}_for`, { name });
}

/** The chip class of a kind of author, as the batch history colours them. */
export function authorChip(by) {
  return by === "agent" || by === "client" ? "chip-agent" : by === "system" ? "chip-muted" : "chip-ok";
}
