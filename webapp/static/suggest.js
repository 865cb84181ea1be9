// Autocomplete for the search box from /api/suggest, as an ARIA 1.2 combobox with a list box:
// Down/Up move through the suggestions, Enter picks one, Escape closes the list. Without
// JavaScript the box is a plain search field. Debounced: one request per pause in typing.
"use strict";

(function suggest() {
  const form = document.querySelector("form.search");
  const input = form && form.querySelector("input[name=q]");
  if (!input || !form.dataset.suggest) return;
  const endpoint = form.dataset.suggest;
  const DELAY = 150;
  const list = document.createElement("ul");
  list.id = "search-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.getAttribute("aria-label") || "");
  list.hidden = true;
  form.appendChild(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");

  let items = [];
  let active = -1;
  let timer = null;
  let latest = 0;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    active = index;
    Array.from(list.children).forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function pick(index) {
    const item = items[index];
    if (!item) return;
    close();
    if (item.url && item.url.charAt(0) === "/" && item.url.charAt(1) !== "/") {
      window.location.assign(item.url);  // an entry or statute title opens it
      return;
    }
    input.value = item.text;
    form.submit();
  }

  function show(suggestions) {
    list.replaceChildren();
    items = suggestions;
    active = -1;
    suggestions.forEach(function (item, i) {
      const option = document.createElement("li");
      option.id = "search-suggestion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.kind = item.kind;
      option.textContent = item.text;
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep the focus in the box
        pick(i);
      });
      list.appendChild(option);
    });
    const open = suggestions.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    input.removeAttribute("aria-activedescendant");
  }

  async function fetchSuggestions() {
    const text = input.value.trim();
    const ticket = ++latest;
    if (!text) {
      close();
      return;
    }
    try {
      const response = await fetch(endpoint + "?limit=8&q=" + encodeURIComponent(text));
      if (!response.ok || ticket !== latest) return;
      const body = await response.json();
      if (ticket === latest && document.activeElement === input) show(body.suggestions || []);
    } catch (error) {
      // No suggestions this time; the search itself still works.
    }
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(fetchSuggestions, DELAY);
  });
  input.addEventListener("keydown", function (event) {
    if (event.isComposing) return;  // an input method is still composing the word
    if (list.hidden) {
      if (event.key === "ArrowDown" && input.value.trim()) fetchSuggestions();
      return;
    }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(active + 1 < items.length ? active + 1 : 0);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active > 0 ? active - 1 : items.length - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", function () {
    window.clearTimeout(timer);
    latest++;
    close();
  });
})();
