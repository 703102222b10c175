// What a tool call answered, as a view shows it: its text (every line the model reads too), or the error it is.

import { define, t } from "../../../chat_bridge/static/i18n.js";

define({
  "views.error": { en: "Something went wrong: {message}", ar: "حدث خطأ: {message}" },
  "views.no_text": { en: "The tool answered without a text.", ar: "أجابت الأداة دون نص." },
});

/** The text parts of a tool result, one after another. */
export function resultText(result) {
  const parts = (result?.content || []).filter((part) => part.type === "text").map((part) => part.text);
  return parts.join("\n") || t("views.no_text");
}

/** A tool result's answer, or the Error it carries (`isError`): a failure is never read as an answer. */
export function answered(result) {
  if (result?.isError) throw new Error(resultText(result));
  return result;
}

/** The sentence a failure is shown with. */
export function failure(error) {
  return t("views.error", { message: error?.message || String(error) });
}
