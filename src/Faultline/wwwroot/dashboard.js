// Small progressive enhancements for server-rendered pages; every page works without them.
(() => {
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  const short = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
  const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month'], [Infinity, 'year']];

  function ago(date) {
    let value = (date.getTime() - Date.now()) / 1000;
    for (const [size, unit] of steps) {
      if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
      value /= size;
    }
  }

  // Times arrive in UTC; show them in the browser's time zone.
  function localize(root) {
    for (const el of root.querySelectorAll('time[datetime]:not([data-local])')) {
      const date = new Date(el.getAttribute('datetime'));
      if (isNaN(date)) continue;
      el.dataset.local = '1';
      el.title = full.format(date);
      el.textContent = el.dataset.relative ? ago(date) : short.format(date);
    }
  }

  document.addEventListener('change', (e) => {
    const all = e.target.closest('[data-select-all]');
    if (!all) return;
    for (const box of all.form.querySelectorAll('input[type=checkbox][name=ids]')) box.checked = all.checked;
  });

  localize(document);
  new MutationObserver(() => localize(document)).observe(document.documentElement, { childList: true, subtree: true });
})();
