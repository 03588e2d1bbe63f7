// Micro-benchmarks of the per-message hot paths. Run: dotnet run -c Release --project benchmarks/ServerEvents.Benchmarks -- --filter '*'
// (add --job short for a quick pass). The end-to-end load figures come from the load driver, not from here.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
