import ts from 'typescript';
const cfg = ts.getParsedCommandLineOfConfigFile('tsconfig.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
const program = ts.createProgram(cfg.fileNames, cfg.options);
const checker = program.getTypeChecker();
const only = process.argv[2] ?? '/src/';
for (const sf of program.getSourceFiles()) {
  if (!sf.fileName.includes(only) || sf.fileName.includes('node_modules')) continue;
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n)) {
      const t = checker.getTypeAtLocation(n);
      if (t.getProperty('then')) {
        let p = n.parent;
        while (ts.isParenthesizedExpression(p) || ts.isAsExpression(p) || ts.isNonNullExpression(p)) p = p.parent;
        const ok = ts.isAwaitExpression(p) || ts.isReturnStatement(p) || (ts.isArrowFunction(p) && p.body === n) || ts.isVariableDeclaration(p) || ts.isExpressionStatement(p) || ts.isVoidExpression(p) || ts.isArrayLiteralExpression(p) || (ts.isCallExpression(p) && p.expression !== n) || ts.isPropertyAssignment(p) || ts.isConditionalExpression(p) && p.condition !== n || ts.isShorthandPropertyAssignment(p) || ts.isSpreadElement(p) || (ts.isPropertyAccessExpression(p) && ['then', 'catch', 'finally'].includes(p.name.text)) || (ts.isPropertyAccessExpression(p) && n.expression.getText(sf).match(/^(tx|store\.db|db)\b/) !== null) || ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken && p.left !== n;
        if (!ok) {
          const { line } = sf.getLineAndCharacterOfPosition(n.getStart(sf));
          console.log(`${sf.fileName.replace(process.cwd() + '/', '')}:${line + 1}: [${ts.SyntaxKind[p.kind]}] ${n.getText(sf).slice(0, 80).replace(/\s+/g, ' ')}`);
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
