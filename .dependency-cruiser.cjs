// Enforces shared/ARCHITECTURE.md: imports point down the stack. A module may import modules on its
// own level or below, never above; nothing imports devregistry except the cli.
const levels = [
  ['wire', 'util'],
  ['crypto', 'kms', 'registry'],
  ['rules', 'formats', 'keys'],
  ['engine', 'dlq'],
  ['jobs', 'kafka', 'backfill', 'audit', 'devregistry'],
  ['service', 'cli'],
];
const above = (i) => levels.slice(i + 1).flat();
const forbidden = levels.slice(0, -1).map((mods, i) => ({
  name: `level-${i}-imports-up`,
  comment: `${mods.join(', ')} must not import ${above(i).join(', ')}`,
  severity: 'error',
  from: { path: `^src/(${mods.join('|')})/` },
  to: { path: `^src/(${above(i).join('|')})/` },
}));
forbidden.push(
  {
    name: 'only-cli-uses-devregistry',
    severity: 'error',
    from: { path: '^src/', pathNot: '^src/(cli|devregistry)/' },
    to: { path: '^src/devregistry/' },
  },
  { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
);
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
