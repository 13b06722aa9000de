using System.CommandLine;
var root = new RootCommand("xbus");
return await root.Parse(args).InvokeAsync();
