import ts from 'typescript';
const cfg = ts.getParsedCommandLineOfConfigFile('tsconfig.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
const program = ts.createProgram(cfg.fileNames, cfg.options);
const checker = program.getTypeChecker();
for (const sf of program.getSourceFiles()) {
  if (sf.isDeclarationFile || sf.fileName.includes('node_modules')) continue;
  if (!/\/(src|test|bench)\//.test(sf.fileName)) continue;
  const visit = (n: ts.Node) => {
    if (ts.isExpressionStatement(n)) {
      let e = n.expression;
      while (ts.isParenthesizedExpression(e)) e = e.expression;
      if (ts.isCallExpression(e) || ts.isPropertyAccessExpression(e)) {
        const t = checker.getTypeAtLocation(e);
        const s = checker.typeToString(t);
        if (/^Promise<|QueryPromise|SQLite(Insert|Update|Delete)/.test(s) || t.getProperty('then')) {
          const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
          console.log(`${sf.fileName.replace(process.cwd() + '/', '')}:${line + 1}: ${n.getText(sf).slice(0, 90).replace(/\s+/g, ' ')}`);
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
