namespace Deri.Tests.Training;

/// <summary>
/// Tests that compare runs bitwise depend on the process-wide torch generator (dropout, seeding):
/// they run in this collection, after the parallel tests and one at a time, so no other test draws
/// from the generator in between.
/// </summary>
[CollectionDefinition("torch-global-generator", DisableParallelization = true)]
public sealed class TorchGeneratorCollection;
