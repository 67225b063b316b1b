// Preloaded (node --require) into the node commands `npm run bench` times when GNU time is not
// installed: writes the process's peak RSS in KiB to $MFD_BENCH_RSS_FILE as it exits.
'use strict';
process.on('exit', () => {
  require('node:fs').writeFileSync(process.env.MFD_BENCH_RSS_FILE, `${process.resourceUsage().maxRSS}\n`);
});
