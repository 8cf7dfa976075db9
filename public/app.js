// Small progressive enhancements; every page works without them. No inline scripts (strict CSP).
(function () {
  'use strict';

  // Copy buttons: <button data-copy="text">.
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-copy]');
    if (!button) return;
    var text = button.getAttribute('data-copy');
    var done = function () {
      button.classList.add('copied');
      var label = button.getAttribute('aria-label');
      button.setAttribute('aria-label', 'Copied');
      setTimeout(function () {
        button.classList.remove('copied');
        if (label) button.setAttribute('aria-label', label);
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () {});
    else {
      var area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      try { document.execCommand('copy'); done(); } catch (e) { /* ignore */ }
      area.remove();
    }
  });

  // Close an open <details> menu when clicking elsewhere or pressing Escape.
  document.addEventListener('click', function (event) {
    document.querySelectorAll('details.menu[open]').forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute('open');
    });
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    document.querySelectorAll('details.menu[open]').forEach(function (menu) { menu.removeAttribute('open'); });
  });

  // Dialogs swapped in by htmx open themselves as modals: <dialog data-open-modal>.
  function openDialogs(root) {
    (root.querySelectorAll ? root : document).querySelectorAll('dialog[data-open-modal]').forEach(function (d) {
      if (!d.open) d.showModal();
      d.removeAttribute('data-open-modal');
    });
  }
  document.addEventListener('DOMContentLoaded', function () { openDialogs(document); });
  document.addEventListener('htmx:afterSettle', function (event) { openDialogs(event.target); });
  // <button data-close-dialog> closes its dialog.
  document.addEventListener('click', function (event) {
    var closer = event.target.closest && event.target.closest('[data-close-dialog]');
    if (!closer) return;
    var dialog = closer.closest('dialog');
    if (dialog) dialog.close();
  });
})();

// Toolkit form: show the Private Credential ID only when "Private credential" is chosen, and
// "Discard changes" in the Credential Configuration Change dialog puts back only the credential.
(function () {
  'use strict';
  function syncPrivate(root) {
    root.querySelectorAll('[data-toggle-private]').forEach(function (select) {
      var form = select.closest('form');
      var box = form && form.querySelector('[data-private-only]');
      if (box) box.hidden = select.value !== 'private';
    });
  }
  document.addEventListener('change', function (event) {
    if (event.target.matches && event.target.matches('[data-toggle-private]')) syncPrivate(document);
  });
  document.addEventListener('DOMContentLoaded', function () { syncPrivate(document); });
  document.addEventListener('htmx:afterSettle', function () { syncPrivate(document); });
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-discard-credential]');
    if (!button) return;
    var form = button.closest('form');
    form.querySelectorAll('#credential-field [data-original]').forEach(function (input) {
      var original = input.getAttribute('data-original');
      if (input.tagName === 'SELECT') {
        if (original) input.value = original;
      } else input.value = original;
    });
    syncPrivate(document);
    var dialog = button.closest('dialog');
    if (dialog) dialog.close();
  });
})();

// Credential form: the Credential ID follows the name (read-only) until "Edit ID" is chosen.
// Without JavaScript the field stays a plain editable input and id_mode stays "manual".
(function () {
  'use strict';
  function lockAutoIds(root) {
    (root.querySelectorAll ? root : document).querySelectorAll('input[data-auto-id]').forEach(function (input) {
      var field = input.closest('#credential-id-field');
      var mode = field && field.querySelector('[data-id-mode]');
      var button = field && field.querySelector('[data-edit-id]');
      if (!mode || !button) return;
      input.readOnly = true;
      mode.value = 'auto';
      button.hidden = false;
    });
  }
  document.addEventListener('DOMContentLoaded', function () { lockAutoIds(document); });
  document.addEventListener('htmx:afterSettle', function (event) { lockAutoIds(event.target); });
  // A live preview still on its way when "Edit ID" was chosen must not overwrite the typed ID.
  document.addEventListener('htmx:beforeSwap', function (event) {
    var target = event.detail.target;
    if (!target || target.id !== 'credential-id-field') return;
    var mode = target.querySelector('input[name="id_mode"]');
    if (mode && mode.value === 'manual' && !target.querySelector('input[data-auto-id]')) event.detail.shouldSwap = false;
  });
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-edit-id]');
    if (!button) return;
    var field = button.closest('#credential-id-field');
    var input = field.querySelector('input[data-auto-id]');
    field.querySelector('[data-id-mode]').value = 'manual';
    input.removeAttribute('data-auto-id');
    input.readOnly = false;
    button.hidden = true;
    // The name no longer drives the ID: stop its live preview.
    var name = document.getElementById('f-name');
    if (name && name.hasAttribute('hx-post')) {
      name.removeAttribute('hx-post');
      if (window.htmx) window.htmx.process(name);
    }
    input.focus();
    input.select();
  });
})();
