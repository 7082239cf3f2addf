/**
 * `--boards GLOB`: which of a tree's arm64 boards a survey runs, as paths under
 * arch/arm64/boot/dts/ (the names scripts/Makefile.dtbs builds them under).
 */
/** GLOB over paths under arch/arm64/boot/dts/: `*` within a component, `**` across, `?` one character. */
export function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
