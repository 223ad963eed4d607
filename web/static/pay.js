// Disable the pay button after the first click; the server pays once anyway.
"use strict";

(() => {
  const form = document.getElementById("pay-form");
  if (!form) return;
  form.addEventListener("submit", () => {
    const button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "Paying…";
  });
})();

// Back from the provider before its confirmation arrived: look again every 2 s (1 minute).
(() => {
  if (!document.getElementById("processing")) {
    sessionStorage.removeItem("billbot-pay-tries");
    return;
  }
  const tries = Number(sessionStorage.getItem("billbot-pay-tries") || "0");
  if (tries >= 30) return;
  sessionStorage.setItem("billbot-pay-tries", String(tries + 1));
  setTimeout(() => window.location.reload(), 2000);
})();
