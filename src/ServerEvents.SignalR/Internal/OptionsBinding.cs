using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ServerEvents.Internal;

internal static class OptionsBinding
{
    /// <summary>
    /// Binds the options from a configuration section when the app has an <see cref="IConfiguration"/> (every ASP.NET Core
    /// host does); unlike <c>BindConfiguration</c>, a bare service collection without one is not an error.
    /// </summary>
    public static OptionsBuilder<TOptions> BindFromConfiguration<TOptions>(this OptionsBuilder<TOptions> options, string section)
        where TOptions : class
    {
        options.Services.AddSingleton<IConfigureOptions<TOptions>>(sp => new ConfigureNamedOptions<TOptions>(options.Name, o =>
            sp.GetService<IConfiguration>()?.GetSection(section).Bind(o)));
        return options;
    }
}
