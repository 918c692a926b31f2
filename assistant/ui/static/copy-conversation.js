(text) => { if (text) navigator.clipboard.writeText(text); }
