// Pay page: polls .../status (every 0.7 s) and updates the page in place
// (waiting → payment seen → confirmed → paid), counts the time left down,
// and enables the copy buttons. The page works without it: a reload shows
// the same state.
(function () {
  'use strict';
  var root = document.getElementById('pay');
  if (!root) { return; }
  var statusURL = root.getAttribute('data-status-url');
  var deadline = Date.now() + 1000 * Number(root.getAttribute('data-seconds-left') || 0);
  var finalText = {
    paid: 'Your payment was received and confirmed. You can close this page.',
    expired: 'This order was not paid in time. Please contact the shop.',
    cancelled: 'This order was cancelled. Please contact the shop.'
  };
  var done = false;
  // Often enough that "paid" shows within about a second of the hot
  // wallet's confirmation; each poll is two indexed reads.
  var pollEvery = 700;

  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { var el = byId(id); if (el && el.textContent !== text) { el.textContent = text; } }

  function left(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    function two(n) { return (n < 10 ? '0' : '') + n; }
    if (s >= 3600) { return Math.floor(s / 3600) + ' h ' + two(Math.floor(s % 3600 / 60)) + ' min'; }
    if (s >= 60) { return Math.floor(s / 60) + ' min ' + two(s % 60) + ' s'; }
    return s + ' s';
  }

  function show(st) {
    root.setAttribute('data-status', st.status);
    var el = byId('status');
    el.className = 'status status-' + st.status;
    setText('status', st.status_text);
    setText('due', st.amount_due_text);
    if (!st.final) {
      deadline = Date.now() + 1000 * st.seconds_left;
      return;
    }
    done = true;
    if (finalText[st.status]) { setText('final-text', finalText[st.status]); }
    byId('final').hidden = false;
    byId('payment').hidden = true;
  }

  function poll() {
    if (done) { return; }
    fetch(statusURL, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) { if (st) { show(st); } })
      .catch(function () { /* offline for a moment: the next poll retries */ })
      .then(function () { if (!done) { window.setTimeout(poll, pollEvery); } });
  }

  function tick() {
    if (done) { return; }
    setText('left', left(deadline - Date.now()));
    window.setTimeout(tick, 1000);
  }

  function copy(btn) {
    var target = byId(btn.getAttribute('data-copy'));
    var label = btn.textContent;
    function flash(text) {
      btn.textContent = text;
      window.setTimeout(function () { btn.textContent = label; }, 1500);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(target.textContent.trim()).then(function () { flash('Copied'); }, function () { select(target); });
    } else {
      select(target);
    }
  }

  function select(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  var buttons = document.querySelectorAll('button[data-copy]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener('click', function (ev) { copy(ev.currentTarget); });
  }
  if (root.getAttribute('data-status') !== 'paid' && root.getAttribute('data-status') !== 'expired' && root.getAttribute('data-status') !== 'cancelled') {
    tick();
    window.setTimeout(poll, pollEvery);
  }
}());
