// The Copy button beside a token secret that is shown once (Components/Tokens/TokenSecret.razor).
// A file of its own because the CSP is script-src 'self': no inline script, no inline handlers.
// Without this script the button stays hidden and the read-only field can still be selected and
// copied by hand; without the Clipboard API the field is selected for Ctrl+C.
(() => {
  'use strict';

  const reveal = () => {
    for (const button of document.querySelectorAll('button[data-copy-from]')) {
      button.hidden = false;
    }
  };

  const say = (button, text) => {
    const status = document.getElementById(button.dataset.copyStatus || '');
    if (status) {
      status.textContent = text;
    }
  };

  // Delegated, so a button that arrives later (enhanced navigation patches the page) works too.
  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-copy-from]') : null;
    const field = button ? document.getElementById(button.dataset.copyFrom) : null;
    if (!field) {
      return;
    }

    field.focus();
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      say(button, 'Copied to the clipboard.');
    } catch {
      say(button, 'Could not copy automatically: the secret is selected, press Ctrl+C (or Cmd+C).');
    }
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', reveal);
  } else {
    reveal();
  }
})();
