// The widget homepage:homepage:sys puts on itself, as Hyperdrive's does: a clock (our own HTML).

export const CLOCK_WIDGET = `<html>
<head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/hyperware.css">
<style>
body{margin:0;display:flex;align-items:center;justify-content:center;height:100vh;font-family:system-ui,sans-serif;overflow:hidden}
#time{font-size:2.5rem;font-variant-numeric:tabular-nums}
#date{opacity:.7}
</style>
</head>
<body>
<div><div id="time"></div><div id="date"></div></div>
<script>
function tick(){var d=new Date();document.getElementById('time').textContent=d.toLocaleTimeString([], {hour:'2-digit',minute:'2-digit',second:'2-digit'});document.getElementById('date').textContent=d.toLocaleDateString([], {weekday:'long',month:'long',day:'numeric'});}
tick();setInterval(tick,1000);
</script>
</body>
</html>`;
