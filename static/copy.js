// copy.js: a button with data-copy="ID" copies the text of the element
// with that id to the clipboard. Buttons stay hidden until this script
// runs, so a page without it shows none that do nothing.
(function () {
  "use strict";

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function say(button, text) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = text;
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    var text = source.textContent.trim();
    if (!navigator.clipboard || !window.isSecureContext) {
      // No clipboard API (plain http on another host): select the text
      // so that Ctrl+C / Cmd+C copies it.
      selectText(source);
      say(button, "Press Ctrl+C to copy");
      return;
    }
    navigator.clipboard.writeText(text).then(function () {
      say(button, "Copied");
    }, function () {
      selectText(source);
      say(button, "Press Ctrl+C to copy");
    });
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button); });
  });
})();
