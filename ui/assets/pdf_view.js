// The "Open in PDF" view (gr.HTML js_on_load): close it with its button, a click beside it or Escape,
// and bring the first highlighted line into view each time a page is opened.
const close = () => element.querySelector('.xr-pdf-backdrop')?.classList.add('xr-closed');
element.addEventListener('click', (event) => {
  if (event.target.closest('.xr-pdf-close') || event.target.classList.contains('xr-pdf-backdrop')) close();
});
document.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
watch('value', () => {
  const box = element.querySelector('.xr-pdf-box');
  if (box) box.scrollIntoView({ block: 'center' });
});
