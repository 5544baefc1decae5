// On narrow screens the evidence panel sits below the chat: bring it into view when it changes.
watch('value', () => {
  if (window.innerWidth < 900 && element.querySelector('.xr-evidence')) {
    element.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }
});
// "Open in PDF" on a passage: ask Python for the page with the cited sentence boxed.
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.xr-open-pdf');
  if (!button || !element.contains(button)) return;
  trigger('click', {
    turn: Number(button.dataset.turn), sentence: Number(button.dataset.sentence), evidence: button.dataset.evidence,
  });
});
