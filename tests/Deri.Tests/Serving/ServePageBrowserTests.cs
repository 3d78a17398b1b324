using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Deri.Server;
using Deri.Tests.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;

namespace Deri.Tests.Serving;

/// <summary>
/// The web page in a real browser: Debian's Chromium driven by Playwright (its Node driver ships in the NuGet package;
/// no browser download) against the real server (Kestrel on a free loopback port) around the fixture's service.
/// A PTB-XL record goes through the page's file input; what the page shows must match the API's answer for the same files.
/// </summary>
[Collection("serve-run")]
public sealed class ServePageBrowserTests(ServeRunFixture fx)
{
    /// <summary>Debian's Chromium (package <c>chromium</c>, installed by <c>.ci/run</c>).</summary>
    private const string Chromium = "/usr/bin/chromium";

    private static readonly string Record = DataFiles.Shared("ptbxl", "records500", "00000", "00008_hr");

    /// <summary>Where the screenshots go: the test output folder.</summary>
    public static string ScreenshotDir => Path.Combine(AppContext.BaseDirectory, "test-output");

    [Fact]
    public async Task AnUploadedPtbXlRecordIsDrawnWithFindingsReportAndSimilarCasesAsTheApiGivesThem()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does");
        string[] files = [Record + ".hea", Record + ".dat"];

        await using var app = DeriServer.Build(fx.Service, new ServerOptions { Port = 0 });
        await app.StartAsync();
        string url = app.Urls.Single();

        // The API's answer for the same two files.
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        using var form = new MultipartFormDataContent();
        foreach (string f in files)
        {
            var part = new ByteArrayContent(File.ReadAllBytes(f));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", Path.GetFileName(f));
        }
        using var response = await http.PostAsync("/api/v1/analyze", form);
        string json = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, json);
        using var doc = JsonDocument.Parse(json);
        var api = doc.RootElement;
        var record = api.GetProperty("record");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            ChromiumSandbox = false,   // CI runs as root, where Chromium's sandbox cannot start
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } });
        var consoleErrors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") consoleErrors.Add(m.Text); };
        page.PageError += (_, e) => consoleErrors.Add(e);
        await page.GotoAsync(url);
        await page.Locator("#picker").SetInputFilesAsync(files);
        await page.Locator("#result").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 30_000 });
        Directory.CreateDirectory(ScreenshotDir);   // before the checks, so that a failure leaves the picture behind
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "serve-page.png"), FullPage = true });

        // Record facts.
        Assert.Equal(record.GetProperty("id").GetString(), await page.Locator("#title").TextContentAsync());
        string facts = await page.Locator("#facts").TextContentAsync() ?? "";
        Assert.Contains($"{record.GetProperty("leads").GetArrayLength()} leads", facts);
        Assert.Contains($"{record.GetProperty("sampling_rate").GetDouble().ToString(CultureInfo.InvariantCulture)} Hz", facts);
        Assert.Contains($"{record.GetProperty("duration_s").GetDouble().ToString(CultureInfo.InvariantCulture)} s", facts);

        // Findings: every class, in the API's order, with its score to three decimals, the positive ones marked.
        var findings = api.GetProperty("findings").EnumerateArray().ToList();
        var items = page.Locator("#findings li");
        Assert.Equal(findings.Count, await items.CountAsync());
        for (int i = 0; i < Math.Min(5, findings.Count); i++)
        {
            var item = items.Nth(i);
            Assert.Equal(findings[i].GetProperty("class").GetString(), await item.GetAttributeAsync("data-class"));
            string text = await item.TextContentAsync() ?? "";
            double shown = double.Parse(text.Split(' ')[1], CultureInfo.InvariantCulture);
            Assert.Equal(findings[i].GetProperty("score").GetDouble(), shown, 0.0006);
            bool positive = findings[i].GetProperty("positive").ValueKind == JsonValueKind.True;
            Assert.Equal(positive, (await item.GetAttributeAsync("class") ?? "").Contains("positive"));
        }

        // The measurements block: each value as the API gives it (rounded, with its unit), "—" with the notes as tooltip
        // where the API has null.
        var measured = api.GetProperty("measurements");
        Assert.Equal(JsonValueKind.Object, measured.ValueKind);
        foreach (string key in new[] { "heart_rate_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg" })
        {
            var cell = page.Locator($"#measurements tr[data-key='{key}'] td.ours");
            string text = (await cell.TextContentAsync())!;
            var v = measured.GetProperty(key);
            if (v.ValueKind == JsonValueKind.Null)
            {
                Assert.Equal("—", text);
                Assert.False(string.IsNullOrEmpty(await cell.GetAttributeAsync("title")));
            }
            else Assert.Equal(Math.Round(v.GetDouble()).ToString(System.Globalization.CultureInfo.InvariantCulture), text.Split(' ')[0]);
        }
        Assert.True(measured.GetProperty("qrs_ms").GetDouble() > 0);
        Assert.Equal(0, await page.Locator("#measurements td.device").CountAsync());   // the upload carries no device measurements

        // The report and the similar cases.
        Assert.Equal(api.GetProperty("report").GetString(), await page.Locator("#report").TextContentAsync());
        var similar = api.GetProperty("similar").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
        var similarItems = page.Locator("#similar li");
        Assert.Equal(similar.Count, await similarItems.CountAsync());
        for (int i = 0; i < similar.Count; i++)
            Assert.StartsWith(similar[i] + " ", await similarItems.Nth(i).TextContentAsync());

        // The tracing: ECG paper of 4 × 2.5 s at 25 mm/s (250 mm) plus the calibration margin, four rows of leads and
        // the rhythm strip, with the traces drawn in black over the grid.
        var paper = await page.EvaluateAsync<JsonElement>("""
            () => {
              const c = document.getElementById("ecg"), g = c.getContext("2d");
              const d = g.getImageData(0, 0, c.width, c.height).data;
              let dark = 0;
              for (let i = 0; i < d.length; i += 4) if (d[i] < 80 && d[i + 1] < 80 && d[i + 2] < 80) dark++;
              return { width: c.width, height: c.height, dark, pxPerMm: Number(c.dataset.pxPerMm), widthMm: Number(c.dataset.widthMm) };
            }
            """);
        double pxPerMm = paper.GetProperty("pxPerMm").GetDouble();
        Assert.Equal(paper.GetProperty("widthMm").GetDouble() * pxPerMm, paper.GetProperty("width").GetDouble(), 1.0);
        Assert.InRange(paper.GetProperty("widthMm").GetDouble(), 250, 270);
        Assert.True(paper.GetProperty("dark").GetInt32() > 1.5 * 4 * 250 * pxPerMm, $"too few trace pixels: {paper}");

        // A similar case opens with its tracing and report.
        await similarItems.First.ClickAsync();
        await page.Locator("#case").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 10_000 });
        Assert.StartsWith(similar[0] + ":", await page.Locator("#caseTitle").TextContentAsync());
        Assert.False(string.IsNullOrEmpty(await page.Locator("#caseReport").TextContentAsync()));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "serve-page-case.png"), FullPage = true });

        Assert.Empty(consoleErrors);
        await app.StopAsync();
    }
}
