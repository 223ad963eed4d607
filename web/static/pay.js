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
