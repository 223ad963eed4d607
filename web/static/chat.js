// The demo web chat: pick a customer, then talk to POST /api/chat. No dependencies.
// Messages queued for the session outside an answer (a payment confirmed on the pay page)
// arrive by polling GET /api/chat/{session}/messages. The page's own texts follow the
// customer's language once billbot says it ("lang" in the /api/chat response).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const picker = $("picker");
  const chat = $("chat");
  const log = $("log");
  const form = $("composer");
  const input = $("text");
  const sendButton = $("send");
  const errorBox = $("error");
  const state = {
    phone: null, session: null, options: [], busy: false, generation: 0,
    lang: "en", after: null, polling: false,
  };
  const POLL_MS = 5000;

  // The page's own words; billbot's replies come already in the customer's language.
  const TEXTS = {
    en: {
      label: "Message", placeholder: "Type a message…", send: "Send",
      chattingAs: "Chatting as", switchCustomer: "Switch customer",
      suggestions: "Suggestions", ask: "Ask",
      offline: "Could not reach billbot. Check the connection and try again.",
      failed: "Sorry, that did not work:",
      chips: {
        owe: "What do I owe?", pay: "Pay my bill", data: "How much data have I used?",
        lost: "I lost my phone", problem: "My internet keeps dropping",
        invoices: "My invoices", account: "Open my account",
      },
    },
    es: {
      label: "Mensaje", placeholder: "Escribe un mensaje…", send: "Enviar",
      chattingAs: "Chateando como", switchCustomer: "Cambiar de cliente",
      suggestions: "Sugerencias", ask: "Preguntar",
      offline: "No se pudo conectar con billbot. Revisa la conexión y vuelve a intentarlo.",
      failed: "Lo siento, no ha funcionado:",
      chips: {
        owe: "¿Cuánto debo?", pay: "Pagar mi factura", data: "¿Cuántos datos he usado?",
        lost: "He perdido mi teléfono", problem: "Mi internet se corta",
        invoices: "Mis facturas", account: "Abrir mi cuenta",
      },
    },
  };

  function words() {
    return TEXTS[state.lang] || TEXTS.en;
  }

  function applyLang(lang) {
    state.lang = TEXTS[lang] ? lang : "en";
    const t = words();
    chat.lang = state.lang; // screen readers switch voice; the DEMO MODE banner stays English
    $("text-label").textContent = t.label;
    input.placeholder = t.placeholder;
    if (!state.busy) sendButton.textContent = t.send;
    $("chat-as").textContent = t.chattingAs;
    $("switch").textContent = t.switchCustomer;
    const chips = $("suggestions");
    chips.setAttribute("aria-label", t.suggestions);
    chips.querySelectorAll(".chip").forEach((b) => {
      const text = t.chips[b.dataset.key];
      if (!text) return;
      b.textContent = text;
      b.dataset.text = text;
      b.setAttribute("aria-label", `${t.ask}: ${text}`); // the visible words stay in the name
    });
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function bubble(kind, text) {
    const div = document.createElement("div");
    div.className = `msg ${kind}`;
    const p = document.createElement("p");
    p.textContent = text;
    div.append(p);
    log.append(div);
    return div;
  }

  function safeUrl(url) {
    // Only web links: a reply must never become a javascript: URL.
    try {
      const parsed = new URL(url, window.location.href);
      return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function anchor(href, label) {
    const a = document.createElement("a");
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.className = "reply-link";
    a.textContent = label;
    return a;
  }

  function addLink(div, reply) {
    const href = safeUrl(reply.link);
    if (!href) return;
    const label = reply.link_label || reply.link;
    const p = div.querySelector("p");
    const at = p.textContent.indexOf(reply.link);
    if (at < 0) {
      div.append(anchor(href, label));
      return;
    }
    // The text carries the raw URL for SMS; on the web the URL becomes the button in place.
    const text = p.textContent;
    p.replaceChildren(text.slice(0, at), anchor(href, label), text.slice(at + reply.link.length));
  }

  function addImage(div, reply) {
    const src = safeUrl(reply.image);
    if (!src) return;
    const img = document.createElement("img");
    img.src = src;
    img.alt = "";
    img.className = "reply-image";
    img.addEventListener("load", scrollDown);
    div.append(img);
  }

  function addOptions(div, reply) {
    const values = reply.option_values || reply.options;
    const row = document.createElement("div");
    row.className = "options";
    reply.options.forEach((label, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "option";
      b.textContent = `${i + 1}. ${label}`;
      b.addEventListener("click", () => send(values[i], label));
      row.append(b);
    });
    div.append(row);
    state.options = values;
  }

  function addReply(reply, kind = "bot") {
    const div = bubble(kind, reply.text || "");
    if (reply.link) addLink(div, reply);
    if (reply.image) addImage(div, reply);
    if (reply.options && reply.options.length) addOptions(div, reply);
  }

  function retireOptions() {
    // Only the latest question's buttons stay clickable.
    log.querySelectorAll("button.option").forEach((b) => { b.disabled = true; });
  }

  function setBusy(busy) {
    state.busy = busy;
    input.disabled = busy;
    sendButton.disabled = busy;
    sendButton.textContent = busy ? "…" : words().send;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function picked(text) {
    // "2" answers the last question's second option, as on SMS.
    const match = /^\s*(\d{1,2})\s*$/.exec(text);
    const index = match ? Number(match[1]) - 1 : -1;
    return index >= 0 && index < state.options.length ? state.options[index] : text;
  }

  const RETRIES = 5;

  async function post(text) {
    // One id per message: a retry after a dropped connection or a 409 ("still answering it")
    // is the same message, so billbot answers it once and returns that same answer.
    const body = { text, as: state.phone, id: newId() };
    if (state.session) body.session = state.session;
    for (let attempt = 1; ; attempt += 1) {
      let response;
      try {
        response = await fetch("/api/chat", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      } catch (err) {
        if (attempt >= RETRIES) throw err;
        await pause(attempt);
        continue;
      }
      const data = await response.json().catch(() => ({}));
      if (response.ok) return data;
      const retryable = response.status === 409 || response.status === 503;
      if (!retryable || attempt >= RETRIES) {
        throw new Error(data.detail || `billbot answered ${response.status}.`);
      }
      await pause(attempt, Number(response.headers.get("retry-after")));
    }
  }

  function pause(attempt, seconds) {
    const wait = seconds > 0 ? seconds * 1000 : 250 * 2 ** attempt;
    return new Promise((resolve) => { setTimeout(resolve, Math.min(wait, 5000)); });
  }

  async function send(value, shown) {
    if (state.busy || !value.trim()) return;
    const generation = state.generation;
    errorBox.hidden = true;
    bubble("me", shown || value);
    retireOptions();
    state.options = [];
    setBusy(true);
    scrollDown();
    try {
      const data = await post(value);
      if (generation !== state.generation) return; // the visitor switched customer meanwhile
      state.session = data.session;
      if (state.after === null && Number.isInteger(data.after)) state.after = data.after;
      if (data.lang) applyLang(data.lang);
      data.replies.forEach((reply) => addReply(reply));
    } catch (err) {
      const offline = err instanceof TypeError;
      showError(offline ? words().offline : `${words().failed} ${err.message}`);
    } finally {
      setBusy(false);
      scrollDown();
      input.focus();
    }
  }

  async function poll() {
    // Messages queued for this session since the last look, e.g. "we received your payment".
    if (!state.session || state.after === null || document.hidden || chat.hidden) return;
    const generation = state.generation;
    const url = `/api/chat/${encodeURIComponent(state.session)}/messages?after=${state.after}`;
    try {
      const response = await fetch(url, { headers: { accept: "application/json" } });
      if (!response.ok || generation !== state.generation) return;
      const data = await response.json();
      if (generation !== state.generation) return;
      data.messages.forEach((message) => {
        message.replies.forEach((reply) => addReply(reply, "bot pushed"));
      });
      if (data.messages.length) scrollDown();
      if (Number.isInteger(data.after)) state.after = Math.max(state.after, data.after);
    } catch {
      // Offline for a moment: the next poll asks again from the same cursor.
    }
  }

  function startPolling() {
    if (state.polling) return;
    state.polling = true;
    setInterval(poll, POLL_MS);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  function choose(button) {
    state.generation += 1;
    state.phone = button.dataset.phone;
    state.session = null; // a new customer is a new conversation
    state.after = null;
    state.options = [];
    log.replaceChildren();
    errorBox.hidden = true;
    $("chat-who").textContent = button.dataset.name;
    picker.hidden = true;
    chat.hidden = false;
    applyLang("en"); // until billbot says whose language this conversation is in
    startPolling();
    bubble("bot", `Hi! You are ${button.dataset.name} in this demo. Ask about your bill, ` +
      "pay it, block a lost SIM, check your data or report a problem.");
    setBusy(false);
    input.focus();
  }

  document.querySelectorAll("button.customer").forEach((b) => {
    b.addEventListener("click", () => choose(b));
  });
  $("switch").addEventListener("click", () => {
    state.generation += 1;
    chat.hidden = true;
    picker.hidden = false;
  });
  document.querySelectorAll("#suggestions .chip").forEach((b) => {
    b.addEventListener("click", () => send(b.dataset.text));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault(); // Enter submits the form; we send it ourselves
    const text = input.value;
    if (!text.trim() || state.busy) return;
    input.value = "";
    send(picked(text), text);
  });
})();
