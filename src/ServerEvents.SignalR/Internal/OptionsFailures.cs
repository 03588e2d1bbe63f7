using Microsoft.Extensions.Options;

namespace ServerEvents.Internal;

/// <summary>Collects every broken rule of an options object, so start-up names them all at once.</summary>
internal sealed class OptionsFailures
{
    private readonly List<string> _failures = [];

    public void Require(bool condition, string failure)
    {
        if (!condition)
        {
            _failures.Add(failure);
        }
    }

    public void Add(string failure) => _failures.Add(failure);

    public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}
