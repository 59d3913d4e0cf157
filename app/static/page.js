// The page's behaviour: send the review to POST /explain on this same service and show the answer.
// No framework and no request anywhere else; the page's Content-Security-Policy forbids both.
"use strict";

const form = document.getElementById("review-form");
const review = document.getElementById("review");
const analyzeButton = document.getElementById("analyze");
const keyField = document.getElementById("key-field");
const keyInput = document.getElementById("api-key");
const message = document.getElementById("message");
const result = document.getElementById("result");

// Shading is strongest at the text's largest attribution, and never so dark that the text on it
// loses contrast.
const MAX_SHADE = 0.65;

function showMessage(text) {
  message.textContent = text;
  message.hidden = false;
}

function clearMessage() {
  message.textContent = "";
  message.hidden = true;
}

function percent(probability) {
  return `${(probability * 100).toFixed(1)}%`;
}

// Offsets from the service count code points, as Python does; Array.from splits a string the same way
// (JavaScript's own indexes count UTF-16 units, which differ for emoji and other astral characters).
function highlightedNodes(text, tokens) {
  const characters = Array.from(text);
  const largest = Math.max(1e-9, ...tokens.filter((t) => t.attribution !== null).map((t) => Math.abs(t.attribution)));
  const nodes = [];
  let position = 0;
  for (const token of tokens) {
    if (token.start > position) {
      nodes.push(document.createTextNode(characters.slice(position, token.start).join("")));
    }
    const word = document.createElement("span");
    word.className = "word";
    word.textContent = characters.slice(token.start, token.end).join("");
    if (token.truncated) {
      word.classList.add("truncated");
      word.title = `${token.token}: not read, past the model's length limit`;
    } else {
      const share = Math.abs(token.attribution) / largest;
      const colour = token.attribution >= 0 ? "22, 140, 64" : "206, 38, 38";
      word.style.backgroundColor = `rgba(${colour}, ${(share * MAX_SHADE).toFixed(3)})`;
      const sign = token.attribution >= 0 ? "+" : "";
      word.title = `${token.token}: ${sign}${token.attribution.toFixed(3)}`;
    }
    nodes.push(word);
    position = token.end;
  }
  if (position < characters.length) {
    nodes.push(document.createTextNode(characters.slice(position).join("")));
  }
  return nodes;
}

// Words hold a letter or a digit; a sentence boundary the model reads (".") is shaded, not listed.
const WORD = /[\p{L}\p{N}]/u;

function strongestWords(tokens, sign) {
  const read = tokens.filter(
    (t) => t.attribution !== null && Math.sign(t.attribution) === sign && WORD.test(t.token),
  );
  read.sort((a, b) => Math.abs(b.attribution) - Math.abs(a.attribution));
  const words = [...new Set(read.map((t) => t.token))].slice(0, 5);
  return words.length > 0 ? words.join(", ") : "none";
}

function render(text, answer) {
  const label = document.getElementById("label");
  label.textContent = answer.label;
  label.className = `label ${answer.label}`;
  document.getElementById("score").textContent = `${percent(answer.score)} sure`;
  const bar = document.getElementById("bar");
  bar.setAttribute("aria-label", `probability of positive: ${percent(answer.positive_probability)}`);
  // The red part, from the left, is the probability of negative.
  document.getElementById("bar-fill").style.width = percent(1 - answer.positive_probability);
  document.getElementById("highlighted").replaceChildren(...highlightedNodes(text, answer.tokens));
  document.getElementById("most-positive").textContent = strongestWords(answer.tokens, 1);
  document.getElementById("most-negative").textContent = strongestWords(answer.tokens, -1);
  const dropped = answer.tokens.filter((t) => t.truncated).length;
  const note = dropped > 0 ? ` The review is long: ${dropped} words in its middle were not read.` : "";
  document.getElementById("model-note").textContent =
    `Model version ${answer.model_version}. Attributions by integrated gradients; hover a word for its value.${note}`;
  result.hidden = false;
}

function describeError(status, body) {
  const details = body && Array.isArray(body.detail) ? body.detail : [];
  if (status === 401) {
    keyField.hidden = false;
    keyInput.focus();
    return "This service needs an API key: enter it above and press Analyze.";
  }
  if (status === 413) {
    return "The review is too long for the service. Shorten it and try again.";
  }
  if (status === 422 && details.some((d) => d.type === "no_known_words")) {
    return "The model knows none of these words, so it cannot judge the text. Try a review in English.";
  }
  if (status === 422 && details.some((d) => d.type === "string_too_long")) {
    return `The review is too long to explain: ${details[0].msg.toLowerCase()}.`;
  }
  if (status === 422 && details.length > 0) {
    return `The service could not read the review: ${details[0].msg}.`;
  }
  if (status === 503) {
    return "The service is busy or still loading its model. Try again in a moment.";
  }
  if (status === 504) {
    return "The explanation took too long. Try again, or with a shorter review.";
  }
  if (body && typeof body.detail === "string") {
    return `The service answered ${status}: ${body.detail}`;
  }
  return `The service answered ${status}. Try again.`;
}

async function analyze() {
  const text = review.value;
  if (text.trim() === "") {
    result.hidden = true;
    showMessage("Type or paste a review first.");
    review.focus();
    return;
  }
  clearMessage();
  analyzeButton.disabled = true;
  analyzeButton.textContent = "Analyzing…";
  try {
    const headers = { "Content-Type": "application/json" };
    const key = keyInput.value.trim();
    if (key !== "") {
      headers.Authorization = `Bearer ${key}`;
    }
    const response = await fetch("/explain", { method: "POST", headers, body: JSON.stringify({ text }) });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (response.ok && body !== null) {
      render(text, body);
    } else {
      result.hidden = true;
      showMessage(describeError(response.status, body));
    }
  } catch {
    result.hidden = true;
    showMessage("The service could not be reached. Check that it is running, then try again.");
  } finally {
    analyzeButton.disabled = false;
    analyzeButton.textContent = "Analyze";
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  analyze();
});

// Enter submits from the text box and the key field; Shift+Enter still starts a new line.
for (const field of [review, keyInput]) {
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

for (const example of document.querySelectorAll(".example")) {
  example.addEventListener("click", () => {
    review.value = example.dataset.text;
    analyze();
  });
}
