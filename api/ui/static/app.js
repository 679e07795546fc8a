// Small improvements on pages that work without JavaScript.
"use strict";

function searchBox() {
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
}

function focusPassage() {
  // A passage opened from a result: bring it into view and give it focus for screen readers.
  const focus = document.querySelector(".chunk.focus");
  if (focus) {
    focus.setAttribute("tabindex", "-1");
    focus.scrollIntoView({ block: "center" });
    focus.focus({ preventScroll: true });
  }
}

function requiredMarks() {
  // The metadata fields the chosen document type requires are marked as it changes.
  const type = document.querySelector("#doc_type");
  const fields = document.querySelectorAll("[data-required-for]");
  if (!type || !fields.length) return;
  const mark = () => {
    fields.forEach((field) => {
      const needed = field.dataset.requiredFor.split(" ").includes(type.value);
      const badge = field.querySelector(".req-mark");
      if (badge) badge.hidden = !needed;
    });
  };
  type.addEventListener("change", mark);
  mark();
}

function uploadProgress() {
  // The upload goes by XMLHttpRequest so the bytes sent show in a <progress>; the server's
  // answer (the results after its redirect, or the form with its messages) replaces the page's
  // main region. Without JavaScript the plain form post does the same.
  const form = document.querySelector("#upload-form");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const box = form.querySelector("#upload-progress");
    const bar = form.querySelector("#upload-bar");
    const state = form.querySelector("#upload-state");
    const button = form.querySelector("button[type=submit]");
    box.hidden = false;
    bar.value = 0;
    state.textContent = "Sending…";
    button.disabled = true;
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        bar.max = e.total;
        bar.value = e.loaded;
        state.textContent = `Sent ${Math.round((100 * e.loaded) / e.total)}%`;
      }
    });
    request.upload.addEventListener("load", () => {
      bar.value = bar.max;
      state.textContent = "Processing: reading and indexing the files…";
    });
    request.addEventListener("load", () => {
      const type = request.getResponseHeader("content-type") || "";
      if (!type.startsWith("text/html")) {
        state.textContent = `The server refused the upload (${request.status}): ${request.responseText.slice(0, 300)}`;
        button.disabled = false;
        return;
      }
      replaceMain(request.responseText, request.responseURL);
    });
    request.addEventListener("error", () => {
      state.textContent = "The upload failed: the connection broke. Please try again.";
      button.disabled = false;
    });
    request.send(new FormData(form));
  });
}

function replaceMain(html, url) {
  const next = new DOMParser().parseFromString(html, "text/html");
  const main = next.querySelector("main");
  if (!main) {
    window.location.assign(url);
    return;
  }
  document.querySelector("main").replaceWith(main);
  document.title = next.title;
  if (url) history.replaceState(null, "", url);
  improve();
  const first = main.querySelector("#results, .error, .field-error");
  const target = first && first.id === "results" ? first : main;
  target.setAttribute("tabindex", "-1");
  target.focus();
}

function improve() {
  requiredMarks();
  uploadProgress();
}

document.addEventListener("DOMContentLoaded", () => {
  searchBox();
  focusPassage();
  improve();
});
