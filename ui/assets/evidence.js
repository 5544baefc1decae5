// On narrow screens the evidence panel sits below the chat: bring it into view when it changes.
watch('value', () => {
  if (window.innerWidth < 900 && element.querySelector('.xr-evidence')) {
    element.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }
});
