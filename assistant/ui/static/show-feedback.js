() => setTimeout(() => {
  const box = document.getElementById('comment') || document.getElementById('feedback');
  if (box) box.scrollIntoView({block: 'center', behavior: 'smooth'});
}, 150)
