global using Xunit;
global using Deri.IO;
