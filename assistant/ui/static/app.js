() => {
  const plain = (raw) => {
    if (typeof raw !== 'string' || !raw.includes('pa-turn')) return raw;
    const doc = new DOMParser().parseFromString(raw, 'text/html');  // an inert document: nothing runs
    const text = doc.querySelector('.pa-text, .pa-notice');
    const refs = [...doc.querySelectorAll('.pa-sources .pa-source summary')].map((s) => s.textContent.trim());
    const head = text ? text.textContent.trim() : '';
    return [head, ...(refs.length ? ['', 'Sources:', ...refs] : [])].join('\n');
  };
  if (navigator.clipboard) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(plain(text));
  }
  // Each new answer is shown from its first line (the chat's own autoscroll would show its sources).
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  let shown = null;
  new MutationObserver(() => {
    const turns = document.querySelectorAll('#chat .pa-turn');
    const last = turns[turns.length - 1];
    if (!last || last === shown) return;
    shown = last;
    const start = last.querySelector('.pa-coverage, .pa-text, .pa-notice') || last;
    const box = scroller(last);
    if (box) box.scrollTop += start.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    const chat = document.getElementById('chat');
    if (chat && chat.getBoundingClientRect().top < 0) chat.scrollIntoView({block: 'start'});
  }).observe(document.body, {childList: true, subtree: true});
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.pa-cite');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const source = document.getElementById((link.getAttribute('href') || '').slice(1));
    if (!source || source.tagName !== 'DETAILS') return;
    source.open = true;
    source.scrollIntoView({block: 'nearest', behavior: 'smooth'});
    source.classList.add('pa-flash');
    setTimeout(() => source.classList.remove('pa-flash'), 1600);
  }, true);
}
