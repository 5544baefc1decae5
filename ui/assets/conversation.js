// Runs once when the conversation component loads (gr.HTML js_on_load): `element` is its root and
// `trigger` sends an event to Python. One listener on the root serves every chip, including chips of
// answers rendered later, because re-rendering replaces the children, not the root.
element.addEventListener('click', (event) => {
  const chip = event.target.closest('button.xr-chip[data-turn]');
  if (!chip || !element.contains(chip)) return;
  element.querySelectorAll('.xr-chip-active').forEach((active) => active.classList.remove('xr-chip-active'));
  chip.classList.add('xr-chip-active');
  trigger('click', { turn: Number(chip.dataset.turn), sentence: Number(chip.dataset.sentence) });
});
