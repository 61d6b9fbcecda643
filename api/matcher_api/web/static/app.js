// matcher pages: copy buttons, print, drag-and-drop upload, and polling the matching status.
// Everything works without this script except copying and live status (the page can be reloaded).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Kopierad";
      } catch (error) {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Markerad: tryck Ctrl+C";
      }
    });
  }

  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }

  for (const zone of document.querySelectorAll("[data-dropzone]")) {
    const input = zone.querySelector("input[type=file]");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        input.form.requestSubmit();
      }
    });
  }

  const match = document.querySelector("[data-poll]");
  if (match) {
    const label = document.getElementById("match-status");
    const poll = async () => {
      try {
        const response = await fetch(match.dataset.poll, { credentials: "same-origin" });
        if (response.ok) {
          const body = await response.json();
          label.textContent = body.label;
          if (body.status === "done" || body.status === "failed") {
            window.location.reload();
            return;
          }
        }
      } catch (error) {
        // the service may be restarting; try again
      }
      window.setTimeout(poll, 1000);
    };
    window.setTimeout(poll, 500);
  }
});
