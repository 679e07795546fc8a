// Small improvements on pages that work without JavaScript.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Ctrl+Enter (or Cmd+Enter) in the crisis box runs the search.
  const box = document.querySelector("form.search textarea");
  if (box) {
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        box.form.requestSubmit();
      }
    });
  }
  // A passage opened from a result: bring it into view and give it focus for screen readers.
  const focus = document.querySelector(".chunk.focus");
  if (focus) {
    focus.setAttribute("tabindex", "-1");
    focus.scrollIntoView({ block: "center" });
    focus.focus({ preventScroll: true });
  }
});
