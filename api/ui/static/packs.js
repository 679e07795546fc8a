// Reading packs, improved when JavaScript runs (every control works without it):
// exports download in the background with a busy state, and Move up / Move down apply at once.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const status = document.querySelector(".exports .export-status");
  for (const link of document.querySelectorAll("a[data-export]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      exportPack(link, status);
    });
  }
  const items = document.querySelector("#items");
  if (items) {
    // One listener for the whole list: it is replaced after each move.
    items.addEventListener("submit", (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.classList.contains("move")) {
        return;
      }
      event.preventDefault();
      moveItem(form, items);
    });
  }
});

async function exportPack(link, status) {
  if (link.getAttribute("aria-disabled") === "true") {
    return;
  }
  const label = link.textContent;
  const what = link.dataset.export;
  link.setAttribute("aria-disabled", "true");
  link.classList.add("busy");
  link.textContent = `Preparing ${what}…`;
  if (status) {
    status.textContent = `Preparing the ${what} file…`;
  }
  try {
    const answer = await fetch(link.href, { credentials: "same-origin" });
    if (!answer.ok) {
      throw new Error(`the server answered ${answer.status}`);
    }
    const blob = await answer.blob();
    const header = answer.headers.get("content-disposition") || "";
    const found = header.match(/filename="([^"]+)"/);
    const name = found ? found[1] : `pack.${new URL(link.href).searchParams.get("format")}`;
    const url = URL.createObjectURL(blob);
    const save = document.createElement("a");
    save.href = url;
    save.download = name;
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    if (status) {
      status.textContent = `${what} ready: ${name}`;
    }
  } catch (error) {
    if (status) {
      status.textContent = `Could not export the ${what} file: ${error.message}. Try again.`;
    }
  } finally {
    link.textContent = label;
    link.classList.remove("busy");
    link.removeAttribute("aria-disabled");
  }
}

async function moveItem(form, items) {
  const item = form.closest("li.item");
  const direction = form.dataset.direction;
  const buttons = items.querySelectorAll("form.move button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    // The server answers with the builder page (after its redirect): take its list.
    const answer = await fetch(form.action, { method: "POST", body: new FormData(form) });
    if (!answer.ok) {
      throw new Error(`status ${answer.status}`);
    }
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.querySelector("#items ol.items");
    items.querySelector("ol.items").replaceWith(document.adoptNode(fresh));
    const moved = document.getElementById(item.id);
    const place = [...moved.parentElement.children].indexOf(moved) + 1;
    let focus = moved.querySelector(`form.move[data-direction="${direction}"] button`);
    if (focus.disabled) {
      focus = moved.querySelector("form.move:not([data-direction=\"" + direction + "\"]) button");
    }
    focus.focus();
    document.getElementById("move-status").textContent = `Moved to place ${place}.`;
  } catch (error) {
    form.submit(); // fall back to the plain form
  }
}
